package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cairn-io/cairn/server/admin"
)

// TestAccAccessKey covers both ways of holding a secret: "wo" gets its secret
// through the write-only secret_wo, "stored" keeps the server's in state. Every
// step checks that the write-only secrets appear in no plan and no state, and that
// the stored one is marked sensitive wherever it appears.
func TestAccAccessKey(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const (
		wo, stored = "cairn_access_key.wo", "cairn_access_key.stored"
		user       = "acc-app"
		secret1    = "wo-secret-0001"
		secret2    = "wo-secret-0002"
		rogue      = "rogue-secret-0003" // set outside Terraform
	)
	type woKey struct{ extra, secret string }
	cfg := func(w woKey, storedExtra string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_user" "u" {
  name = %q
}
resource "cairn_user_policy_attachment" "rw" {
  user   = cairn_user.u.name
  policy = "readwrite"
}
resource "cairn_access_key" "wo" {
  user      = cairn_user.u.name
  secret_wo = %q
%s}
resource "cairn_access_key" "stored" {
  user                  = cairn_user.u.name
%s}
`, user, w.secret, w.extra, storedExtra))
	}
	const storeOn = "  store_secret_in_state = true\n"
	const details = `  name        = "ci"
  description = "CI uploads"
  status      = "disabled"
  expiration  = "2099-01-01T02:00:00+02:00"
  policy      = jsonencode({Statement = [{Effect = "Allow", Action = "s3:ListAllMyBuckets", Resource = "*"}]})
`
	// Secrets that must never show up: the write-only ones, and the one set
	// outside Terraform (which the server never returns anyway).
	noLeak := []string{secret1, secret2, rogue}
	planSafe := func(checks ...plancheck.PlanCheck) resource.ConfigPlanChecks {
		return resource.ConfigPlanChecks{
			PreApply:             append(checks, planLacks(noLeak...), secretSensitive(stored)),
			PostApplyPostRefresh: []plancheck.PlanCheck{planLacks(noLeak...)},
		}
	}
	stateSafe := []statecheck.StateCheck{stateLacks(noLeak...)}

	var woID, storedID, storedSecret string
	remember := func(s *terraform.State) error {
		woID = s.RootModule().Resources[wo].Primary.Attributes["access_key"]
		storedID = s.RootModule().Resources[stored].Primary.Attributes["access_key"]
		storedSecret = s.RootModule().Resources[stored].Primary.Attributes["secret"]
		return nil
	}
	// signs checks that the credentials sign requests the server accepts.
	signs := func(id *string, secret func() string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			return e.canList(*id, secret())
		}
	}
	fixed := func(s string) func() string { return func() string { return s } }

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.userGone(user),
		Steps: []resource.TestStep{
			{ // create: one secret given write-only, one generated and stored
				Config:           cfg(woKey{secret: secret1}, storeOn),
				ConfigPlanChecks: planSafe(),
				ConfigStateChecks: append(stateSafe,
					statecheck.ExpectKnownValue(wo, tfjsonpath.New("access_key"), knownvalue.StringRegexp(regexp.MustCompile(`^CK[A-Z0-9]{18}$`))),
					statecheck.ExpectKnownValue(wo, tfjsonpath.New("secret"), knownvalue.Null()),
					statecheck.ExpectKnownValue(wo, tfjsonpath.New("secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(wo, tfjsonpath.New("status"), knownvalue.StringExact("enabled")),
					statecheck.ExpectKnownValue(stored, tfjsonpath.New("secret"), knownvalue.StringRegexp(regexp.MustCompile(`^\S{40}$`))),
				),
				Check: resource.ComposeTestCheckFunc(remember,
					signs(&woID, fixed(secret1)),
					signs(&storedID, func() string { return storedSecret })),
			},
			{ResourceName: wo, ImportState: true, ImportStateVerify: true},
			{ResourceName: wo, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{ // an imported key's secret is unknown: nothing else differs
				ResourceName: stored, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"secret", "store_secret_in_state"},
			},
			{ // store_secret_in_state cannot be known on import: the import block plans it in place, never a replacement
				ResourceName: stored, ImportState: true, ImportStateKind: resource.ImportBlockWithID,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(stored, plancheck.ResourceActionUpdate),
				}},
			},
			{ // update in place: name, description, status, expiration, inline policy
				Config: cfg(woKey{secret: secret1, extra: details}, storeOn),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(wo, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(stored, plancheck.ResourceActionNoop),
				),
				ConfigStateChecks: append(stateSafe,
					// kept as written: the server's UTC form names the same instant
					statecheck.ExpectKnownValue(wo, tfjsonpath.New("expiration"), knownvalue.StringExact("2099-01-01T02:00:00+02:00")),
				),
				Check: func(*terraform.State) error {
					k, err := e.Admin.GetAccessKey(ctx, woID)
					if err != nil {
						return err
					}
					if k.Name != "ci" || k.Description != "CI uploads" || k.Status != admin.StatusDisabled ||
						k.Expiration == nil || k.Expiration.UTC().Format("2006-01-02T15:04:05Z") != "2099-01-01T00:00:00Z" || len(k.Policy) == 0 {
						return fmt.Errorf("server holds %+v after the update", k)
					}
					return nil
				},
			},
			{ // enabled and its policy edited outside Terraform: both planned back
				PreConfig: func() {
					on := admin.StatusEnabled
					_, err := e.Admin.UpdateAccessKey(ctx, woID, admin.UpdateAccessKeyRequest{Status: &on,
						Policy: json.RawMessage(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
					must(t, err)
				},
				Config: cfg(woKey{secret: secret1, extra: details}, storeOn),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(wo, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(wo, tfjsonpath.New("status"), knownvalue.StringExact("disabled")),
				),
				Check: func(*terraform.State) error {
					k, err := e.Admin.GetAccessKey(ctx, woID)
					if err == nil && (k.Status != admin.StatusDisabled || strings.Contains(string(k.Policy), `"s3:*"`)) {
						err = fmt.Errorf("server holds %+v after the apply", k)
					}
					return err
				},
			},
			{ // details removed: back to an enabled, unrestricted key that never expires
				Config: cfg(woKey{secret: secret1}, storeOn),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(wo, plancheck.ResourceActionUpdate),
				),
				Check: resource.ComposeTestCheckFunc(signs(&woID, fixed(secret1)), func(*terraform.State) error {
					k, err := e.Admin.GetAccessKey(ctx, woID)
					if err == nil && (k.Name != "" || k.Expiration != nil || len(k.Policy) != 0) {
						err = fmt.Errorf("server holds %+v after the details were removed", k)
					}
					return err
				}),
			},
			{ // rotated outside Terraform (deleted and created again under the same id, with
				// another secret): the secret Terraform handed out is dead, so both keys are replaced
				PreConfig: func() {
					for _, id := range []string{woID, storedID} {
						must(t, e.Admin.DeleteAccessKey(ctx, id))
						_, err := e.Admin.CreateAccessKey(ctx, admin.CreateAccessKeyRequest{User: user, AccessKey: id, SecretKey: rogue})
						must(t, err)
					}
				},
				Config: cfg(woKey{secret: secret1}, storeOn),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(wo, plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectResourceAction(stored, plancheck.ResourceActionDestroyBeforeCreate),
				),
				ConfigStateChecks: stateSafe,
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error {
						for _, id := range []string{woID, storedID} {
							if _, err := e.Admin.GetAccessKey(ctx, id); !admin.IsNotFound(err) {
								return fmt.Errorf("the key re-created outside Terraform, %s, survived its replacement: %v", id, err)
							}
						}
						return nil
					},
					remember,
					signs(&woID, fixed(secret1)),
					signs(&storedID, func() string { return storedSecret })),
			},
			{ // deleted outside Terraform: planned for creation
				PreConfig: func() { must(t, e.Admin.DeleteAccessKey(ctx, storedID)) },
				Config:    cfg(woKey{secret: secret1}, storeOn),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(stored, plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(wo, plancheck.ResourceActionNoop),
				),
				Check: resource.ComposeTestCheckFunc(remember, signs(&storedID, func() string { return storedSecret })),
			},
			{ // a first secret_wo_version only records the version
				Config: cfg(woKey{secret: secret1, extra: "  secret_wo_version = 1\n"}, storeOn),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(wo, plancheck.ResourceActionUpdate),
				),
				Check: signs(&woID, fixed(secret1)),
			},
			{ // a new version rotates: a new key with the new secret; the old one is gone
				Config: cfg(woKey{secret: secret2, extra: "  secret_wo_version = 2\n"}, storeOn),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(wo, plancheck.ResourceActionDestroyBeforeCreate),
				),
				ConfigStateChecks: stateSafe,
				Check: func(s *terraform.State) error {
					old := woID
					remember(s)
					if old == woID {
						return fmt.Errorf("rotation kept the access key id %s", old)
					}
					if _, err := e.Admin.GetAccessKey(ctx, old); !admin.IsNotFound(err) {
						return fmt.Errorf("the rotated-out key %s still exists: %v", old, err)
					}
					return e.canList(woID, secret2)
				},
			},
			{ // store_secret_in_state turned off: the secret leaves the state, the key stays
				Config: cfg(woKey{secret: secret2, extra: "  secret_wo_version = 2\n"}, ""),
				ConfigPlanChecks: planSafe(
					plancheck.ExpectResourceAction(stored, plancheck.ResourceActionUpdate),
				),
				ConfigStateChecks: append(stateSafe,
					statecheck.ExpectKnownValue(stored, tfjsonpath.New("secret"), knownvalue.Null())),
				Check: signs(&storedID, func() string { return storedSecret }),
			},
		},
	})
}

func TestAccAccessKeyInvalid(t *testing.T) {
	e := newAcc(t)
	for _, tc := range []struct{ name, body, want string }{
		{"no secret", ``, `The server returns an access key's secret only when the key is created`},
		{"both", "  secret_wo = \"abcdefgh\"\n  store_secret_in_state = true\n", `secret_wo keeps the secret out of the state`},
		{"version alone", "  store_secret_in_state = true\n  secret_wo_version = 1\n", `Attribute "secret_wo" must be specified when "secret_wo_version" is specified`},
		{"short secret", "  secret_wo = \"short\"\n", `The value must be 8 to 128 characters long (it is 5)`},
		{"bad expiration", "  store_secret_in_state = true\n  expiration = \"2030-01-01\"\n", `"2030-01-01" is not an RFC 3339 timestamp`},
		{"bad status", "  store_secret_in_state = true\n  status = \"Active\"\n", `value must be one of`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps: []resource.TestStep{{
					Config:      e.config("resource \"cairn_access_key\" \"k\" {\n  user = \"nobody\"\n" + tc.body + "}\n"),
					PlanOnly:    true,
					ExpectError: errorLike(tc.want),
				}},
			})
		})
	}
}

// TestSecretCheckNeverQuotes checks that a refused secret is not repeated in the
// diagnostic (terraform prints diagnostics to terminals and CI logs).
func TestSecretCheckNeverQuotes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"short", "has a space in it", strings.Repeat("x", 129), "tab\there-and-more"} {
		var resp validator.StringResponse
		secretCheck{desc: "secret_wo", check: secretKeyProblem}.ValidateString(context.Background(),
			validator.StringRequest{ConfigValue: types.StringValue(s)}, &resp)
		if !resp.Diagnostics.HasError() {
			t.Errorf("secret %q accepted", s)
		}
		for _, d := range resp.Diagnostics {
			if strings.Contains(d.Summary()+d.Detail(), s) {
				t.Errorf("diagnostic %q / %q repeats the secret", d.Summary(), d.Detail())
			}
		}
	}
}

// canList checks that a key signs requests the server accepts.
func (e *accEnv) canList(id, secret string) error {
	if id == "" || secret == "" {
		return fmt.Errorf("no credentials to test (id %q)", id)
	}
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(e.Endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
	})
	if _, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		return fmt.Errorf("ListBuckets signed by access key %s: %w", id, err)
	}
	return nil
}

// planLacks is a plan check that none of the strings occurs among the plan's
// values: prior state, planned values, resource and output changes, variables.
// (The plan's configuration section is left out: it repeats the configuration's
// literal expressions as written, and these tests write the secrets as literals.)
type planLacksCheck []string

func planLacks(s ...string) plancheck.PlanCheck { return planLacksCheck(s) }

func (c planLacksCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	p := *req.Plan
	p.Config = nil
	b, err := json.Marshal(&p)
	if err != nil {
		resp.Error = err
		return
	}
	for _, s := range c {
		if strings.Contains(string(b), s) {
			resp.Error = fmt.Errorf("a secret that must never be stored occurs in the plan")
			return
		}
	}
}

// stateLacks is a state check that none of the strings occurs in the state.
type stateLacksCheck []string

func stateLacks(s ...string) statecheck.StateCheck { return stateLacksCheck(s) }

func (c stateLacksCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	for _, s := range c {
		if strings.Contains(string(b), s) {
			resp.Error = fmt.Errorf("a secret that must never be stored occurs in the state")
			return
		}
	}
}

// secretSensitive is a plan check that, wherever the resource's change has a
// secret attribute, Terraform marks it sensitive, so the plan shows
// "(sensitive value)" and never the secret.
type secretSensitiveCheck string

func secretSensitive(addr string) plancheck.PlanCheck { return secretSensitiveCheck(addr) }

func (c secretSensitiveCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != string(c) || rc.Change == nil {
			continue
		}
		for which, pair := range map[string][2]any{"before": {rc.Change.Before, rc.Change.BeforeSensitive}, "after": {rc.Change.After, rc.Change.AfterSensitive}} {
			vals, _ := pair[0].(map[string]any)
			if vals["secret"] == nil {
				continue // null or unknown: nothing to hide
			}
			sens, _ := pair[1].(map[string]any)
			if sens["secret"] != true {
				resp.Error = fmt.Errorf("%s: the %s value of secret is not marked sensitive", c, which)
				return
			}
		}
	}
}
