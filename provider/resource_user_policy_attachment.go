package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/cairn-io/cairn/server/admin"
)

// cairn_user_policy_attachment: one policy attached to one user (the shared
// implementation is policyAttachmentResource).
func newUserPolicyAttachmentResource() resource.Resource {
	return &policyAttachmentResource{kind: attachmentKind{
		typeSuffix: "_user_policy_attachment",
		principal:  "user",
		nameCheck:  iamNameProblem(maxUserName),
		importID:   "alice/readonly",
		description: "Attaches a policy (a `cairn_policy` or a built-in one) to a user. Each attachment is its " +
			"own resource, so other attachments of the same user, made by Terraform or not, are left alone.\n\n" +
			"A policy detached outside Terraform is attached again by the next apply.",
		policies: func(ctx context.Context, c *admin.Client, user string) ([]string, error) {
			u, err := c.GetUser(ctx, user)
			if err != nil {
				return nil, err
			}
			return u.Policies, nil
		},
		attach: func(ctx context.Context, c *admin.Client, user, policy string) ([]string, error) {
			u, err := c.AttachUserPolicy(ctx, user, policy)
			if err != nil {
				return nil, err
			}
			return u.Policies, nil
		},
		detach: func(ctx context.Context, c *admin.Client, user, policy string) error {
			_, err := c.DetachUserPolicy(ctx, user, policy)
			return err
		},
	}}
}
