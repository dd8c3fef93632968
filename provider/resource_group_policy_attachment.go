package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/cairn-io/cairn/server/admin"
)

// cairn_group_policy_attachment: one policy attached to one group (the shared
// implementation is policyAttachmentResource).
func newGroupPolicyAttachmentResource() resource.Resource {
	return &policyAttachmentResource{kind: attachmentKind{
		typeSuffix: "_group_policy_attachment",
		principal:  "group",
		nameCheck:  iamNameProblem(maxGroupName),
		importID:   "developers/readwrite",
		description: "Attaches a policy (a `cairn_policy` or a built-in one) to a group: every member of the " +
			"group may then do what it allows. Each attachment is its own resource, so other attachments of the " +
			"same group are left alone.\n\n" +
			"A policy detached outside Terraform is attached again by the next apply.",
		policies: func(ctx context.Context, c *admin.Client, group string) ([]string, error) {
			g, err := c.GetGroup(ctx, group)
			if err != nil {
				return nil, err
			}
			return g.Policies, nil
		},
		attach: func(ctx context.Context, c *admin.Client, group, policy string) ([]string, error) {
			g, err := c.AttachGroupPolicy(ctx, group, policy)
			if err != nil {
				return nil, err
			}
			return g.Policies, nil
		},
		detach: func(ctx context.Context, c *admin.Client, group, policy string) error {
			_, err := c.DetachGroupPolicy(ctx, group, policy)
			return err
		},
	}}
}
