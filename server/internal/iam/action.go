package iam

import (
	"fmt"
	"sort"
	"strings"
)

// Actions. A policy names actions as "service:Name" with '*' and '?' wildcards
// ("s3:Get*", "admin:*", "*"), case-insensitively as in AWS. Cairn knows two
// services: s3 (the S3 API, AWS's action names) and admin (Cairn's admin API).
// Parsing refuses a name that is not a known action and a pattern that matches no
// known action, so a typo is an error instead of a statement that never applies.

// S3 actions Cairn authorizes. Several S3 operations share one action, as in AWS:
// CreateMultipartUpload, UploadPart, UploadPartCopy and CompleteMultipartUpload
// are s3:PutObject; HeadObject is s3:GetObject; HeadBucket is s3:ListBucket;
// DeleteBucketTagging is s3:PutBucketTagging; DeletePublicAccessBlock is
// s3:PutBucketPublicAccessBlock.
const (
	ActionAbortMultipartUpload        = "s3:AbortMultipartUpload"
	ActionCreateBucket                = "s3:CreateBucket"
	ActionDeleteBucket                = "s3:DeleteBucket"
	ActionDeleteBucketPolicy          = "s3:DeleteBucketPolicy"
	ActionDeleteObject                = "s3:DeleteObject"
	ActionDeleteObjectTagging         = "s3:DeleteObjectTagging"
	ActionDeleteObjectVersion         = "s3:DeleteObjectVersion"
	ActionDeleteObjectVersionTagging  = "s3:DeleteObjectVersionTagging"
	ActionGetBucketAcl                = "s3:GetBucketAcl"
	ActionGetBucketLocation           = "s3:GetBucketLocation"
	ActionGetBucketPolicy             = "s3:GetBucketPolicy"
	ActionGetBucketPolicyStatus       = "s3:GetBucketPolicyStatus"
	ActionGetBucketPublicAccessBlock  = "s3:GetBucketPublicAccessBlock"
	ActionGetBucketTagging            = "s3:GetBucketTagging"
	ActionGetBucketVersioning         = "s3:GetBucketVersioning"
	ActionGetObject                   = "s3:GetObject"
	ActionGetObjectAcl                = "s3:GetObjectAcl"
	ActionGetObjectTagging            = "s3:GetObjectTagging"
	ActionGetObjectVersion            = "s3:GetObjectVersion"
	ActionGetObjectVersionAcl         = "s3:GetObjectVersionAcl"
	ActionGetObjectVersionTagging     = "s3:GetObjectVersionTagging"
	ActionListAllMyBuckets            = "s3:ListAllMyBuckets"
	ActionListBucket                  = "s3:ListBucket"
	ActionListBucketMultipartUploads  = "s3:ListBucketMultipartUploads"
	ActionListBucketVersions          = "s3:ListBucketVersions"
	ActionListMultipartUploadParts    = "s3:ListMultipartUploadParts"
	ActionPutBucketAcl                = "s3:PutBucketAcl"
	ActionPutBucketPolicy             = "s3:PutBucketPolicy"
	ActionPutBucketPublicAccessBlock  = "s3:PutBucketPublicAccessBlock"
	ActionPutBucketTagging            = "s3:PutBucketTagging"
	ActionPutBucketVersioning         = "s3:PutBucketVersioning"
	ActionPutObject                   = "s3:PutObject"
	ActionPutObjectAcl                = "s3:PutObjectAcl"
	ActionPutObjectTagging            = "s3:PutObjectTagging"
	ActionPutObjectVersionAcl         = "s3:PutObjectVersionAcl"
	ActionPutObjectVersionTagging     = "s3:PutObjectVersionTagging"
	ActionGetEncryptionConfiguration  = "s3:GetEncryptionConfiguration"
	ActionPutEncryptionConfiguration  = "s3:PutEncryptionConfiguration"
	ActionGetLifecycleConfiguration   = "s3:GetLifecycleConfiguration"
	ActionPutLifecycleConfiguration   = "s3:PutLifecycleConfiguration"
	ActionGetBucketObjectLockConfig   = "s3:GetBucketObjectLockConfiguration"
	ActionPutBucketObjectLockConfig   = "s3:PutBucketObjectLockConfiguration"
	ActionGetObjectRetention          = "s3:GetObjectRetention"
	ActionPutObjectRetention          = "s3:PutObjectRetention"
	ActionGetObjectLegalHold          = "s3:GetObjectLegalHold"
	ActionPutObjectLegalHold          = "s3:PutObjectLegalHold"
	ActionBypassGovernanceRetention   = "s3:BypassGovernanceRetention"
	ActionGetObjectAttributes         = "s3:GetObjectAttributes"
	ActionGetObjectVersionAttributes  = "s3:GetObjectVersionAttributes"
	ActionGetBucketCORS               = "s3:GetBucketCORS"
	ActionPutBucketCORS               = "s3:PutBucketCORS"
	ActionGetBucketNotification       = "s3:GetBucketNotification"
	ActionPutBucketNotification       = "s3:PutBucketNotification"
	ActionGetReplicationConfiguration = "s3:GetReplicationConfiguration"
	ActionPutReplicationConfiguration = "s3:PutReplicationConfiguration"
	ActionRestoreObject               = "s3:RestoreObject"
	ActionGetBucketOwnershipControls  = "s3:GetBucketOwnershipControls"
	ActionPutBucketOwnershipControls  = "s3:PutBucketOwnershipControls"
	ActionGetBucketWebsite            = "s3:GetBucketWebsite"
	ActionPutBucketWebsite            = "s3:PutBucketWebsite"
	ActionDeleteBucketWebsite         = "s3:DeleteBucketWebsite"
	ActionGetBucketLogging            = "s3:GetBucketLogging"
	ActionPutBucketLogging            = "s3:PutBucketLogging"
)

// Admin API actions (service "admin"). A user allowed them (the built-in "admin"
// policy allows admin:*) may use the admin API like root. Their resource is "*".
const (
	ActionAdminServerInfo      = "admin:ServerInfo"
	ActionAdminCreateUser      = "admin:CreateUser"
	ActionAdminGetUser         = "admin:GetUser"
	ActionAdminListUsers       = "admin:ListUsers"
	ActionAdminUpdateUser      = "admin:UpdateUser"
	ActionAdminDeleteUser      = "admin:DeleteUser"
	ActionAdminCreateGroup     = "admin:CreateGroup"
	ActionAdminGetGroup        = "admin:GetGroup"
	ActionAdminListGroups      = "admin:ListGroups"
	ActionAdminUpdateGroup     = "admin:UpdateGroupMembers"
	ActionAdminDeleteGroup     = "admin:DeleteGroup"
	ActionAdminCreatePolicy    = "admin:CreatePolicy"
	ActionAdminGetPolicy       = "admin:GetPolicy"
	ActionAdminListPolicies    = "admin:ListPolicies"
	ActionAdminUpdatePolicy    = "admin:UpdatePolicy"
	ActionAdminDeletePolicy    = "admin:DeletePolicy"
	ActionAdminAttachPolicy    = "admin:AttachPolicy"
	ActionAdminDetachPolicy    = "admin:DetachPolicy"
	ActionAdminCreateAccessKey = "admin:CreateAccessKey"
	ActionAdminGetAccessKey    = "admin:GetAccessKey"
	ActionAdminListAccessKeys  = "admin:ListAccessKeys"
	ActionAdminUpdateAccessKey = "admin:UpdateAccessKey"
	ActionAdminDeleteAccessKey = "admin:DeleteAccessKey"
	ActionAdminListPools       = "admin:ListPools"
	ActionAdminAddPool         = "admin:AddPool"
	ActionAdminDecommission    = "admin:DecommissionPool"
	ActionAdminListKMSKeys     = "admin:ListKMSKeys"
	ActionAdminCreateKMSKey    = "admin:CreateKMSKey"
	ActionAdminGetKMSKey       = "admin:GetKMSKey"
	ActionAdminRotateKMSKey    = "admin:RotateKMSKey"
	ActionAdminDeleteKMSKey    = "admin:DeleteKMSKey"
	ActionAdminListTiers       = "admin:ListTiers"
	ActionAdminAddTier         = "admin:AddTier"
	ActionAdminUpdateTier      = "admin:UpdateTier"
	ActionAdminRemoveTier      = "admin:RemoveTier"
)

// knownActions lists every action a policy may name.
func knownActions() []string {
	return []string{
		ActionAbortMultipartUpload, ActionCreateBucket, ActionDeleteBucket, ActionDeleteBucketPolicy,
		ActionDeleteObject, ActionDeleteObjectTagging, ActionDeleteObjectVersion,
		ActionDeleteObjectVersionTagging, ActionGetBucketAcl, ActionGetBucketLocation,
		ActionGetBucketPolicy, ActionGetBucketPolicyStatus, ActionGetBucketPublicAccessBlock,
		ActionGetBucketTagging, ActionGetBucketVersioning, ActionGetObject, ActionGetObjectAcl,
		ActionGetObjectTagging, ActionGetObjectVersion, ActionGetObjectVersionAcl,
		ActionGetObjectVersionTagging, ActionListAllMyBuckets, ActionListBucket,
		ActionListBucketMultipartUploads, ActionListBucketVersions, ActionListMultipartUploadParts,
		ActionPutBucketAcl, ActionPutBucketPolicy, ActionPutBucketPublicAccessBlock,
		ActionPutBucketTagging, ActionPutBucketVersioning, ActionPutObject, ActionPutObjectAcl,
		ActionPutObjectTagging, ActionPutObjectVersionAcl, ActionPutObjectVersionTagging,
		ActionGetEncryptionConfiguration, ActionPutEncryptionConfiguration,
		ActionGetLifecycleConfiguration, ActionPutLifecycleConfiguration,
		ActionGetBucketObjectLockConfig, ActionPutBucketObjectLockConfig,
		ActionGetObjectRetention, ActionPutObjectRetention, ActionGetObjectLegalHold,
		ActionPutObjectLegalHold, ActionBypassGovernanceRetention, ActionGetObjectAttributes,
		ActionGetObjectVersionAttributes, ActionGetBucketCORS, ActionPutBucketCORS,
		ActionGetBucketNotification, ActionPutBucketNotification,
		ActionGetReplicationConfiguration, ActionPutReplicationConfiguration, ActionRestoreObject,
		ActionGetBucketOwnershipControls, ActionPutBucketOwnershipControls,
		ActionGetBucketWebsite, ActionPutBucketWebsite, ActionDeleteBucketWebsite,
		ActionGetBucketLogging, ActionPutBucketLogging,

		ActionAdminServerInfo, ActionAdminCreateUser, ActionAdminGetUser, ActionAdminListUsers,
		ActionAdminUpdateUser, ActionAdminDeleteUser, ActionAdminCreateGroup, ActionAdminGetGroup,
		ActionAdminListGroups, ActionAdminUpdateGroup, ActionAdminDeleteGroup,
		ActionAdminCreatePolicy, ActionAdminGetPolicy, ActionAdminListPolicies,
		ActionAdminUpdatePolicy, ActionAdminDeletePolicy, ActionAdminAttachPolicy,
		ActionAdminDetachPolicy, ActionAdminCreateAccessKey, ActionAdminGetAccessKey,
		ActionAdminListAccessKeys, ActionAdminUpdateAccessKey, ActionAdminDeleteAccessKey,
		ActionAdminListPools, ActionAdminAddPool, ActionAdminDecommission,
		ActionAdminListKMSKeys, ActionAdminCreateKMSKey, ActionAdminGetKMSKey, ActionAdminRotateKMSKey,
		ActionAdminDeleteKMSKey, ActionAdminListTiers, ActionAdminAddTier, ActionAdminUpdateTier, ActionAdminRemoveTier,
	}
}

// actionServices are the services an action may name.
func isActionService(s string) bool { return s == "s3" || s == "admin" }

// parseAction validates one Action/NotAction entry and returns it lower-cased
// (matching is case-insensitive). known is knownActions(), lower-cased.
func parseAction(a string, known []string) (string, error) {
	if a == "*" {
		return a, nil
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || name == "" {
		return "", fmt.Errorf("action %q is not of the form service:Action (e.g. \"s3:GetObject\")", a)
	}
	service = strings.ToLower(service)
	if !isActionService(service) {
		return "", fmt.Errorf("action %q names the service %q; Cairn policies know the services \"s3\" and \"admin\"", a, service)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*' || c == '?' || c == '-') {
			return "", fmt.Errorf("action %q contains the character %q", a, c)
		}
	}
	l := service + ":" + strings.ToLower(name)
	if !hasWildcard(l) {
		if i := sort.SearchStrings(known, l); i < len(known) && known[i] == l {
			return l, nil
		}
		return "", fmt.Errorf("unknown action %q", a)
	}
	for _, k := range known {
		if matchWildcard(l, k) {
			return l, nil
		}
	}
	return "", fmt.Errorf("action pattern %q matches no known action", a)
}

// lowerKnownActions is knownActions lower-cased and sorted, for parseAction.
func lowerKnownActions() []string {
	ks := knownActions()
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = strings.ToLower(k)
	}
	sort.Strings(out)
	return out
}
