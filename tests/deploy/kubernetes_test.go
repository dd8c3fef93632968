package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// serviceMonitor is the part of prometheus-operator's ServiceMonitor
// (monitoring.coreos.com/v1) the module writes; strict decoding into it
// refuses any field the module should not set.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		NamespaceSelector struct {
			MatchNames []string `json:"matchNames"`
		} `json:"namespaceSelector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			Scheme        string `json:"scheme"`
			Authorization *struct {
				Type        string `json:"type"`
				Credentials struct {
					Name string `json:"name"`
					Key  string `json:"key"`
				} `json:"credentials"`
			} `json:"authorization"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// TestKubernetesManifests plans modules/kubernetes (stand-in kubernetes
// provider, no cluster) and parses every object it would apply — the
// kubernetes_manifest resources of the plan, which must be exactly the
// module's manifests output — strictly (unknown or duplicate fields fail) into
// the k8s.io/api types: Namespace, Secret, ServiceAccount, two Services,
// StatefulSet, PodDisruptionBudget, and the ServiceMonitor into its own
// struct. Then it checks what the objects mean together: every pod's
// --address is its headless name, the pool names every pod's claims at their
// mount paths, selectors match the pod labels, probes hit the health
// endpoints, the Secret feeds the credentials.
func TestKubernetesManifests(t *testing.T) {
	tf := terraformPath(t)
	mirror := standin(t)
	tmp := repoCopy(t)
	root := filepath.Join(tmp, "k8sroot")
	must(t, os.MkdirAll(root, 0o755))
	must(t, os.WriteFile(filepath.Join(root, "main.tf"), []byte(`
module "cairn" {
  source               = "../modules/kubernetes"
  name                 = "objstore"
  namespace            = "storage"
  replicas             = 3
  drives_per_node      = 2
  storage_class        = "fast"
  storage_size         = "50Gi"
  image                = "registry.example.com/cairn:test"
  root_password        = "k8s-manifest-secret"
  kms                  = { backend = "builtin", master_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", key = "objects" }
  service_monitor      = true
  metrics_token_secret = { name = "objstore-metrics", key = "token" }
  service_type         = "LoadBalancer"
}

output "manifests" {
  value     = module.cairn.manifests
  sensitive = true
}
`), 0o644))
	r := newTerraform(t, tf, root, map[string]string{"registry.terraform.io/hashicorp/*": mirror})
	r.run("init", "-no-color")
	r.run("plan", "-no-color", "-out=plan.bin")
	js := r.run("show", "-json", "plan.bin")

	var plan struct {
		PlannedValues struct {
			Outputs map[string]struct {
				Value map[string]json.RawMessage `json:"value"`
			} `json:"outputs"`
		} `json:"planned_values"`
		ResourceChanges []struct {
			Address string `json:"address"`
			Type    string `json:"type"`
			Change  struct {
				Actions []string `json:"actions"`
				After   struct {
					Manifest json.RawMessage `json:"manifest"`
				} `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	must(t, json.Unmarshal([]byte(js), &plan))
	outputs := plan.PlannedValues.Outputs["manifests"].Value
	if len(outputs) == 0 {
		t.Fatalf("no manifests output in the plan:\n%s", js)
	}

	// What the plan applies is what the output shows.
	applied := map[string]json.RawMessage{}
	for _, rc := range plan.ResourceChanges {
		if rc.Type != "kubernetes_manifest" {
			continue
		}
		if !reflect.DeepEqual(rc.Change.Actions, []string{"create"}) {
			t.Errorf("%s: actions %v, want create", rc.Address, rc.Change.Actions)
		}
		var head struct {
			Kind     string
			Metadata struct{ Name string }
		}
		must(t, json.Unmarshal(rc.Change.After.Manifest, &head))
		applied[head.Kind+"/"+head.Metadata.Name] = rc.Change.After.Manifest
	}
	want := []string{"Namespace/storage", "PodDisruptionBudget/objstore", "Secret/objstore-env", "Service/objstore", "Service/objstore-hl", "ServiceAccount/objstore", "ServiceMonitor/objstore", "StatefulSet/objstore"}
	if got := sortedKeys(applied); !reflect.DeepEqual(got, want) {
		t.Fatalf("kubernetes_manifest objects %v, want %v", got, want)
	}
	if got := sortedKeys(outputs); !reflect.DeepEqual(got, want) {
		t.Fatalf("manifests output %v, want %v", got, want)
	}
	for k, v := range applied {
		if !jsonEqual(t, v, outputs[k]) {
			t.Errorf("%s: applied manifest differs from the manifests output", k)
		}
	}

	strict := func(key string, into any) {
		t.Helper()
		if err := yaml.UnmarshalStrict(applied[key], into); err != nil {
			t.Fatalf("%s does not parse strictly into %T: %v\n%s", key, into, err, applied[key])
		}
	}
	var (
		ns       corev1.Namespace
		secret   corev1.Secret
		sa       corev1.ServiceAccount
		client   corev1.Service
		headless corev1.Service
		sts      appsv1.StatefulSet
		pdb      policyv1.PodDisruptionBudget
		sm       serviceMonitor
	)
	strict("Namespace/storage", &ns)
	strict("Secret/objstore-env", &secret)
	strict("ServiceAccount/objstore", &sa)
	strict("Service/objstore", &client)
	strict("Service/objstore-hl", &headless)
	strict("StatefulSet/objstore", &sts)
	strict("PodDisruptionBudget/objstore", &pdb)
	strict("ServiceMonitor/objstore", &sm)

	for _, o := range []struct{ got, want, what string }{
		{ns.APIVersion + " " + ns.Kind, "v1 Namespace", "namespace"},
		{sts.APIVersion + " " + sts.Kind, "apps/v1 StatefulSet", "statefulset"},
		{pdb.APIVersion + " " + pdb.Kind, "policy/v1 PodDisruptionBudget", "pdb"},
		{sm.APIVersion + " " + sm.Kind, "monitoring.coreos.com/v1 ServiceMonitor", "servicemonitor"},
		{sts.Namespace + secret.Namespace + sa.Namespace + client.Namespace + headless.Namespace + pdb.Namespace + sm.Metadata.Namespace, strings.Repeat("storage", 7), "namespaces"},
	} {
		if o.got != o.want {
			t.Errorf("%s: %q, want %q", o.what, o.got, o.want)
		}
	}

	// The StatefulSet and its pods.
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 || sts.Spec.ServiceName != "objstore-hl" || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("statefulset spec: replicas %v, serviceName %q, podManagementPolicy %q", sts.Spec.Replicas, sts.Spec.ServiceName, sts.Spec.PodManagementPolicy)
	}
	podLabels := sts.Spec.Template.Labels
	for what, sel := range map[string]map[string]string{
		"statefulset selector": sts.Spec.Selector.MatchLabels, "client service selector": client.Spec.Selector,
		"headless service selector": headless.Spec.Selector, "pdb selector": pdb.Spec.Selector.MatchLabels,
	} {
		if len(sel) == 0 {
			t.Errorf("%s is empty", what)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%s %s=%s does not match the pod labels %v", what, k, v, podLabels)
			}
		}
	}
	// The service monitor selects the client service and not the headless one:
	// every pod is scraped once.
	matches := func(labels map[string]string) bool {
		for k, v := range sm.Spec.Selector.MatchLabels {
			if labels[k] != v {
				return false
			}
		}
		return len(sm.Spec.Selector.MatchLabels) > 0
	}
	if !matches(client.Labels) || matches(headless.Labels) {
		t.Errorf("servicemonitor selector %v: matches client service %v: %v, headless service %v: %v; want only the client service",
			sm.Spec.Selector.MatchLabels, client.Labels, matches(client.Labels), headless.Labels, matches(headless.Labels))
	}
	c := sts.Spec.Template.Spec.Containers
	if len(c) != 1 {
		t.Fatalf("%d containers, want 1", len(c))
	}
	pool := "http://objstore-0.objstore-hl.storage.svc.cluster.local:9000/data/d{1...2}," +
		"http://objstore-1.objstore-hl.storage.svc.cluster.local:9000/data/d{1...2}," +
		"http://objstore-2.objstore-hl.storage.svc.cluster.local:9000/data/d{1...2}"
	wantArgs := []string{"server", "--address", "$(POD_NAME).objstore-hl.storage.svc.cluster.local:9000", pool}
	if !reflect.DeepEqual(c[0].Args, wantArgs) {
		t.Errorf("container args %q, want %q", c[0].Args, wantArgs)
	}
	if len(c[0].Env) != 1 || c[0].Env[0].Name != "POD_NAME" || c[0].Env[0].ValueFrom == nil || c[0].Env[0].ValueFrom.FieldRef == nil || c[0].Env[0].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("POD_NAME must come from metadata.name (it completes --address): %+v", c[0].Env)
	}
	if len(c[0].EnvFrom) != 1 || c[0].EnvFrom[0].SecretRef == nil || c[0].EnvFrom[0].SecretRef.Name != secret.Name {
		t.Errorf("envFrom %+v, want the Secret %s", c[0].EnvFrom, secret.Name)
	}
	if c[0].Image != "registry.example.com/cairn:test" || len(c[0].Ports) != 1 || c[0].Ports[0].ContainerPort != 9000 || c[0].Ports[0].Name != "s3" {
		t.Errorf("image %q ports %+v", c[0].Image, c[0].Ports)
	}
	if p := c[0].ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/cairn/health/ready" || p.HTTPGet.Port.String() != "s3" {
		t.Errorf("readiness probe %+v", p)
	}
	if p := c[0].LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/cairn/health/live" {
		t.Errorf("liveness probe %+v", p)
	}
	if sc := c[0].SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container security context %+v", sc)
	}
	if psc := sts.Spec.Template.Spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.FSGroup == nil || *psc.FSGroup != 65532 {
		t.Errorf("pod security context %+v", psc)
	}
	var mounts []string
	for _, m := range c[0].VolumeMounts {
		mounts = append(mounts, m.Name+"="+m.MountPath)
	}
	var claims []string
	for _, pvc := range sts.Spec.VolumeClaimTemplates {
		q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		claims = append(claims, fmt.Sprintf("%s %s %s %v", pvc.Name, q.String(), deref(pvc.Spec.StorageClassName), pvc.Spec.AccessModes))
	}
	if want := []string{"data1=/data/d1", "data2=/data/d2", "tmp=/tmp"}; !reflect.DeepEqual(mounts, want) {
		t.Errorf("volume mounts %v, want %v (the pool's drive paths)", mounts, want)
	}
	if want := []string{"data1 50Gi fast [ReadWriteOnce]", "data2 50Gi fast [ReadWriteOnce]"}; !reflect.DeepEqual(claims, want) {
		t.Errorf("claims %v, want %v", claims, want)
	}
	if v := sts.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].Name != "tmp" || v[0].EmptyDir == nil {
		t.Errorf("pod volumes %+v, want an emptyDir for /tmp", v)
	}
	if sts.Spec.Template.Spec.ServiceAccountName != sa.Name {
		t.Errorf("pods run as %q, want the ServiceAccount %q", sts.Spec.Template.Spec.ServiceAccountName, sa.Name)
	}

	// Services, Secret, PDB, ServiceMonitor.
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("headless service: clusterIP %q publishNotReadyAddresses %v", headless.Spec.ClusterIP, headless.Spec.PublishNotReadyAddresses)
	}
	if client.Spec.Type != corev1.ServiceTypeLoadBalancer || len(client.Spec.Ports) != 1 || client.Spec.Ports[0].Port != 9000 || client.Spec.Ports[0].TargetPort.String() != "s3" {
		t.Errorf("client service %+v", client.Spec)
	}
	for k, v := range map[string]string{"CAIRN_ROOT_USER": "admin", "CAIRN_ROOT_PASSWORD": "k8s-manifest-secret", "CAIRN_KMS_BACKEND": "builtin", "CAIRN_KMS_DEFAULT_KEY": "objects"} {
		if secret.StringData[k] != v {
			t.Errorf("secret %s = %q, want %q", k, secret.StringData[k], v)
		}
	}
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("pdb maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "s3" || sm.Spec.Endpoints[0].Path != "/metrics" ||
		sm.Spec.Endpoints[0].Authorization == nil || sm.Spec.Endpoints[0].Authorization.Credentials.Name != "objstore-metrics" {
		t.Errorf("servicemonitor endpoints %+v", sm.Spec.Endpoints)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
