"""boto3 against a Cairn server: the everyday S3 flows of a Python application.

Run by TestBoto3 (boto3_test.go) with /usr/bin/python3. It reads the endpoint and
credentials from CAIRN_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and a
scratch directory from CAIRN_WORKDIR. Every flow prints "PASS <flow>" when it has
checked what it did; the first failed check raises, so the script prints
"FAIL <flow>" and a traceback and exits non-zero. A flow that cannot run here
returns its reason and the script prints "SKIP <flow>: <reason>" (only the
client-side encryption flow can, when the cryptography package is missing).
"""

import datetime
import hashlib
import os
import sys
import traceback
import urllib.request

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MiB = 1024 * 1024


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["CAIRN_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # No retries: every error the server answers reaches the test.
            retries={"max_attempts": 1, "mode": "standard"},
            # CI shares one disk among all tests: a flush can wait behind others' data.
            read_timeout=300,
        ),
    )


def error_code(exc):
    return exc.response.get("Error", {}).get("Code")


def flow_buckets(s3, bucket):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    s3.create_bucket(Bucket=bucket)
    s3.head_bucket(Bucket=bucket)
    found = [b for b in s3.list_buckets()["Buckets"] if b["Name"] == bucket]
    check(len(found) == 1, "list_buckets does not show %s" % bucket)
    created = found[0]["CreationDate"]
    check(isinstance(created, datetime.datetime), "CreationDate is %r" % (created,))
    check(created >= before, "CreationDate %s is before the test started" % created)
    try:
        s3.create_bucket(Bucket=bucket)
        raise AssertionError("creating an existing bucket succeeded")
    except botocore.exceptions.ClientError as e:
        check(error_code(e) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"), "re-create: %s" % error_code(e))


def flow_objects(s3, bucket):
    body = os.urandom(3000)
    key = "docs/hello world+ü.txt"
    put = s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/plain",
                        Metadata={"color": "blue"})
    etag = '"%s"' % hashlib.md5(body).hexdigest()
    check(put["ETag"] == etag, "put ETag %s, want %s" % (put["ETag"], etag))
    got = s3.get_object(Bucket=bucket, Key=key)
    check(got["Body"].read() == body, "get returned other bytes")
    check(got["ContentType"] == "text/plain", "ContentType %r" % got["ContentType"])
    check(got["Metadata"] == {"color": "blue"}, "Metadata %r" % got["Metadata"])
    check(got["ETag"] == etag, "get ETag %s" % got["ETag"])
    head = s3.head_object(Bucket=bucket, Key=key)
    check(head["ContentLength"] == len(body), "head ContentLength %d" % head["ContentLength"])
    check(head["ETag"] == etag, "head ETag %s" % head["ETag"])
    ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=100-199")
    check(ranged["Body"].read() == body[100:200], "range read returned other bytes")
    check(ranged["ContentRange"] == "bytes 100-199/3000", "ContentRange %r" % ranged["ContentRange"])
    empty = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    check(empty["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"', "empty ETag %s" % empty["ETag"])
    check(s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b"", "empty object has bytes")
    s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_object(Bucket=bucket, Key="empty")
    try:
        s3.head_object(Bucket=bucket, Key=key)
        raise AssertionError("head after delete succeeded")
    except botocore.exceptions.ClientError as e:
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "head after delete: %r" % e.response)
    try:
        s3.get_object(Bucket=bucket, Key=key)
        raise AssertionError("get after delete succeeded")
    except botocore.exceptions.ClientError as e:
        check(error_code(e) == "NoSuchKey", "get after delete: %s" % error_code(e))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def flow_transfer(s3, bucket, work):
    src = os.path.join(work, "upload.bin")
    dst = os.path.join(work, "download.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(20 * MiB + 12345))
    cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_file(src, bucket, "big/upload.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big/upload.bin")
    check(head["ETag"].endswith('-3"'), "upload_file did not make a 3-part object: ETag %s" % head["ETag"])
    check(head["ContentLength"] == os.path.getsize(src), "size %d" % head["ContentLength"])
    s3.download_file(bucket, "big/upload.bin", dst, Config=cfg)
    check(sha256_file(src) == sha256_file(dst), "download_file returned other bytes")


def flow_paginate(s3, bucket):
    keys = sorted(["page/%02d/item" % i for i in range(23)] + ["page/top-%d" % i for i in range(2)])
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="page/", PaginationConfig={"PageSize": 10}))
    check(len(pages) == 3, "%d pages, want 3" % len(pages))
    listed = [o["Key"] for p in pages for o in p.get("Contents", [])]
    check(listed == keys, "paginated keys differ: %r" % listed)
    check(all(o["Size"] == len(o["Key"]) for p in pages for o in p["Contents"]), "sizes differ")
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="page/", Delimiter="/", PaginationConfig={"PageSize": 7}))
    prefixes = [cp["Prefix"] for p in pages for cp in p.get("CommonPrefixes", [])]
    files = [o["Key"] for p in pages for o in p.get("Contents", [])]
    check(prefixes == ["page/%02d/" % i for i in range(23)], "common prefixes: %r" % prefixes)
    check(files == ["page/top-0", "page/top-1"], "files beside the prefixes: %r" % files)
    check(sum(p["KeyCount"] for p in pages) == 25, "KeyCount total")


def flow_versioning(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    check(s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled", "versioning not Enabled")
    v1 = s3.put_object(Bucket=bucket, Key="ver/doc", Body=b"first")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="ver/doc", Body=b"second")["VersionId"]
    check(v1 and v2 and v1 != v2, "version ids %r %r" % (v1, v2))
    check(s3.get_object(Bucket=bucket, Key="ver/doc")["Body"].read() == b"second", "latest is not v2")
    check(s3.get_object(Bucket=bucket, Key="ver/doc", VersionId=v1)["Body"].read() == b"first", "v1 lost")
    marker = s3.delete_object(Bucket=bucket, Key="ver/doc")
    check(marker.get("DeleteMarker") is True, "delete did not make a delete marker: %r" % marker)
    try:
        s3.get_object(Bucket=bucket, Key="ver/doc")
        raise AssertionError("get of a deleted key succeeded")
    except botocore.exceptions.ClientError as e:
        check(error_code(e) == "NoSuchKey", "get deleted: %s" % error_code(e))
    lv = s3.list_object_versions(Bucket=bucket, Prefix="ver/")
    versions = [(v["VersionId"], v["IsLatest"]) for v in lv.get("Versions", [])]
    check(versions == [(v2, False), (v1, False)], "versions %r" % versions)
    markers = lv.get("DeleteMarkers", [])
    check(len(markers) == 1 and markers[0]["IsLatest"], "delete markers %r" % markers)
    # Restore v1 by copying it over the key (a new latest version).
    s3.copy_object(Bucket=bucket, Key="ver/doc", CopySource={"Bucket": bucket, "Key": "ver/doc", "VersionId": v1})
    check(s3.get_object(Bucket=bucket, Key="ver/doc")["Body"].read() == b"first", "restore failed")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    check(s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Suspended", "versioning not Suspended")


def flow_presigned(s3, bucket):
    key = "shared/report 2024 (final)+ü.txt"
    body = b"presigned content\n" * 100
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=30) as resp:
        check(resp.status == 200, "presigned GET status %d" % resp.status)
        check(resp.read() == body, "presigned GET returned other bytes")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "shared/upload"}, ExpiresIn=300)
    req = urllib.request.Request(put_url, data=b"uploaded by url", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as resp:
        check(resp.status == 200, "presigned PUT status %d" % resp.status)
    check(s3.get_object(Bucket=bucket, Key="shared/upload")["Body"].read() == b"uploaded by url", "presigned PUT lost")
    sig = url.split("X-Amz-Signature=")[1].split("&")[0]
    bad = url.replace(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    try:
        urllib.request.urlopen(bad, timeout=30)
        raise AssertionError("a tampered presigned URL was accepted")
    except urllib.error.HTTPError as e:
        check(e.code == 403, "tampered URL status %d" % e.code)


def flow_copy(s3, bucket):
    body = os.urandom(5000)
    s3.put_object(Bucket=bucket, Key="copy/src", Body=body, Metadata={"a": "1"}, ContentType="image/png")
    r = s3.copy_object(Bucket=bucket, Key="copy/dst", CopySource={"Bucket": bucket, "Key": "copy/src"})
    check(r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), "copy ETag")
    got = s3.get_object(Bucket=bucket, Key="copy/dst")
    check(got["Body"].read() == body, "copy returned other bytes")
    check(got["Metadata"] == {"a": "1"} and got["ContentType"] == "image/png", "copy lost metadata")
    s3.copy_object(Bucket=bucket, Key="copy/dst2", CopySource="%s/copy/src" % bucket,
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/plain")
    got = s3.head_object(Bucket=bucket, Key="copy/dst2")
    check(got["Metadata"] == {"b": "2"} and got["ContentType"] == "text/plain", "REPLACE metadata: %r" % got["Metadata"])


def flow_delete_objects(s3, bucket):
    keys = ["del/%d" % i for i in range(5)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys + ["del/absent"]]})
    deleted = sorted(d["Key"] for d in r.get("Deleted", []))
    check(deleted == sorted(keys + ["del/absent"]), "deleted %r" % deleted)
    check(not r.get("Errors"), "errors %r" % r.get("Errors"))
    left = s3.list_objects_v2(Bucket=bucket, Prefix="del/")
    check(left["KeyCount"] == 0, "%d keys left" % left["KeyCount"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "del/0"}], "Quiet": True})
    check(not r.get("Deleted") and not r.get("Errors"), "quiet delete answered %r" % r)


def flow_client_side_encryption(s3, bucket, work):
    try:
        from cryptography.hazmat.primitives import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:
        return "the python3 cryptography package is not installed"
    key = os.urandom(32)  # AES-256
    iv = os.urandom(16)

    def encrypt(data):
        padder = padding.PKCS7(128).padder()
        enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()

    def decrypt(data):
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(dec.update(data) + dec.finalize()) + unpadder.finalize()

    plaintext = os.urandom(100000) + b"the secret tail"
    ciphertext = encrypt(plaintext)
    enc_path = os.path.join(work, "encrypted.bin")
    with open(enc_path, "wb") as f:
        f.write(ciphertext)
    s3.upload_file(enc_path, bucket, "secret/object.enc", ExtraArgs={"Metadata": {"iv": iv.hex()}})
    down = os.path.join(work, "downloaded.enc")
    s3.download_file(bucket, "secret/object.enc", down)
    with open(down, "rb") as f:
        stored = f.read()
    check(stored == ciphertext, "the server returned other ciphertext")
    check(plaintext not in stored, "ciphertext contains the plaintext")
    got_iv = bytes.fromhex(s3.head_object(Bucket=bucket, Key="secret/object.enc")["Metadata"]["iv"])
    check(got_iv == iv, "iv metadata lost")
    check(decrypt(stored) == plaintext, "decrypted data differs")


def flow_cleanup(s3, bucket):
    # Remove every version and marker, then the bucket (as an application would).
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objs:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    check(bucket not in names, "bucket still listed after delete")


def main():
    s3 = client()
    bucket = "boto3-flows-" + os.urandom(4).hex()
    work = os.environ["CAIRN_WORKDIR"]
    flows = [
        ("buckets", lambda: flow_buckets(s3, bucket)),
        ("objects", lambda: flow_objects(s3, bucket)),
        ("transfer", lambda: flow_transfer(s3, bucket, work)),
        ("paginate", lambda: flow_paginate(s3, bucket)),
        ("presigned", lambda: flow_presigned(s3, bucket)),
        ("copy", lambda: flow_copy(s3, bucket)),
        ("delete-objects", lambda: flow_delete_objects(s3, bucket)),
        ("client-side-encryption", lambda: flow_client_side_encryption(s3, bucket, work)),
        ("versioning", lambda: flow_versioning(s3, bucket)),
        ("cleanup", lambda: flow_cleanup(s3, bucket)),
    ]
    print("boto3 %s botocore %s" % (boto3.__version__, botocore.__version__))
    for name, fn in flows:
        try:
            skipped = fn()
        except Exception:
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
            return 1
        if skipped:
            print("SKIP %s: %s" % (name, skipped))
        else:
            print("PASS %s" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
