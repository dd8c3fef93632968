# The seed's encryption flows (SSE-S3 with a bucket default, SSE-C, SSE-KMS with a
# named key, client-side AES-CBC) in boto3, against a Cairn process over TLS.
# argv: endpoint access-key secret-key ca-bundle workdir
import os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, access, secret, ca, work = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                  region_name="us-east-1", verify=ca, config=Config(s3={"addressing_style": "path"}))
marker = b"SEED-FLOW-PLAINTEXT-MARKER "
data = marker * 40000  # ~1 MiB
src = os.path.join(work, "file.txt")
with open(src, "wb") as f:
    f.write(data)

def check(path):
    with open(path, "rb") as f:
        assert f.read() == data, path

# SSE-S3: bucket default encryption, then an upload without headers.
s3.create_bucket(Bucket="my-bucket")
s3.put_bucket_encryption(Bucket="my-bucket", ServerSideEncryptionConfiguration={
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
s3.upload_file(src, "my-bucket", "my-object")
head = s3.head_object(Bucket="my-bucket", Key="my-object")
assert head["ServerSideEncryption"] == "AES256", head
s3.download_file("my-bucket", "my-object", os.path.join(work, "sse-s3.txt"))
check(os.path.join(work, "sse-s3.txt"))
print("sse-s3 ok")

# SSE-C: a random 32-byte key; boto3 sends it base64 with its MD5.
key = os.urandom(32)
s3.create_bucket(Bucket="my-bucket-2")
s3.upload_file(src, "my-bucket-2", "my-encrypted-object",
               ExtraArgs={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key})
s3.download_file("my-bucket-2", "my-encrypted-object", os.path.join(work, "sse-c.txt"),
                 ExtraArgs={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key})
check(os.path.join(work, "sse-c.txt"))
try:
    s3.get_object(Bucket="my-bucket-2", Key="my-encrypted-object", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(32))
    raise SystemExit("wrong SSE-C key accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDenied", e.response
try:
    s3.get_object(Bucket="my-bucket-2", Key="my-encrypted-object")
    raise SystemExit("SSE-C object read without its key")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidRequest", e.response
print("sse-c ok")

# SSE-KMS with a named key.
s3.upload_file(src, "my-bucket", "my-kms-object",
               ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "my-kms-key"})
head = s3.head_object(Bucket="my-bucket", Key="my-kms-object")
assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "my-kms-key", head
s3.download_file("my-bucket", "my-kms-object", os.path.join(work, "sse-kms.txt"))
check(os.path.join(work, "sse-kms.txt"))
print("sse-kms ok")

# Client-side encryption (AES-CBC, the seed's snippet with a 32-byte key and a
# 16-byte IV): the server stores what it is given and never sees the key.
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import padding
aes_key, iv = os.urandom(32), os.urandom(16)
padder = padding.PKCS7(128).padder()
enc = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
ct = enc.update(padder.update(data) + padder.finalize()) + enc.finalize()
s3.put_object(Bucket="my-bucket-2", Key="client-side", Body=ct)
got = s3.get_object(Bucket="my-bucket-2", Key="client-side")["Body"].read()
dec = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).decryptor()
unpadder = padding.PKCS7(128).unpadder()
plain = unpadder.update(dec.update(got) + dec.finalize()) + unpadder.finalize()
assert plain == data
print("client-side ok")
