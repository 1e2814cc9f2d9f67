package helmtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "../helm/creditchain"
	release   = "cc"
	namespace = "ledger"
	fullname  = "cc-creditchain"
)

// devInstitution is one of the six institutions of the genesis fixture
// (testdata/genesis.json, the layout `creditchain dev` plans).
type devInstitution struct {
	id, name string
	recorder bool
}

var devInstitutions = []devInstitution{
	{"11350200D00000013W", "center", false},
	{"11350200D00000021P", "court", true},
	{"11350200D0000003XF", "market", true},
	{"11350200D00000048F", "tax", true},
	{"11350200D00000056A", "ecology", true},
	{"11350200D000000645", "bank", false},
}

// devValues is a network of the six institutions on the chart's own NATS,
// etcd and PostgreSQL. The bank's key is an existing Secret; the others'
// are given inline (their content is not read by the chart).
func devValues(t *testing.T) map[string]any {
	t.Helper()
	genesis, err := os.ReadFile("testdata/genesis.json")
	if err != nil {
		t.Fatal(err)
	}
	var insts []any
	for _, in := range devInstitutions {
		key := map[string]any{"json": fmt.Sprintf(`{"institution":%q}`, in.id)}
		if in.name == "bank" {
			key = map[string]any{"existingSecret": "bank-key"}
		}
		insts = append(insts, map[string]any{"id": in.id, "name": in.name, "recorder": in.recorder, "key": key})
	}
	return map[string]any{
		"genesis":      string(genesis),
		"institutions": insts,
		"signer":       map[string]any{"institution": "center"},
	}
}

// externalValues points the network at existing NATS, etcd and PostgreSQL
// servers. The tax office keeps its URLs in a Secret of its own.
func externalValues(t *testing.T) map[string]any {
	v := devValues(t)
	v["nats"] = map[string]any{"enabled": false, "url": "nats://nats-0.infra:4222,nats://nats-1.infra:4222",
		"auth": map[string]any{"existingSecret": "nats-passwords"}}
	v["etcd"] = map[string]any{"enabled": false, "endpoints": "https://etcd-0.infra:2379,https://etcd-1.infra:2379"}
	v["postgresql"] = map[string]any{"enabled": false}
	for _, x := range v["institutions"].([]any) {
		in := x.(map[string]any)
		name := in["name"].(string)
		db := map[string]any{"url": "postgres://replica@pg-" + name + ".infra:5432/replica"}
		if in["recorder"].(bool) {
			db["consensusUrl"] = "postgres://consensus@pg-" + name + ".infra:5432/consensus"
		}
		if name == "tax" {
			db = map[string]any{"existingSecret": "tax-databases"}
		}
		in["database"] = db
	}
	return v
}

// monitoredValues turns on everything optional: ServiceMonitor, hard
// anti-affinity, tracing export and restricted entry points.
func monitoredValues(t *testing.T) map[string]any {
	v := devValues(t)
	v["metrics"] = map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}}}
	v["antiAffinity"] = "hard"
	v["tracing"] = map[string]any{"otlpEndpoint": "http://otel-collector.monitoring:4317", "env": map[string]any{"OTEL_EXPORTER_OTLP_INSECURE": "true"}}
	v["networkPolicy"] = map[string]any{"intakeFrom": []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"creditchain.io/member": "true"}}}}}
	return v
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return ch
}

// render renders the chart as `helm install` would, with the schema
// checked; it returns the manifests by template file.
func render(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	ch := loadChart(t)
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	return engine.Render(ch, rv)
}

// manifest is the rendered release: every object decoded strictly into
// its Kubernetes type.
type manifest struct {
	objects      []runtime.Object
	deployments  map[string]*appsv1.Deployment
	statefulSets map[string]*appsv1.StatefulSet
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	pdbs         map[string]*policyv1.PodDisruptionBudget
	policies     map[string]*networkingv1.NetworkPolicy
	monitors     map[string]*serviceMonitor
}

// serviceMonitor is the part of the Prometheus Operator's type the chart
// writes; decoding is strict, so any other field fails the test.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// DeepCopyObject makes serviceMonitor a runtime.Object like the others.
func (s *serviceMonitor) DeepCopyObject() runtime.Object {
	c := *s
	return &c
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func decode(t *testing.T, files map[string]string) *manifest {
	t.Helper()
	m := &manifest{deployments: map[string]*appsv1.Deployment{}, statefulSets: map[string]*appsv1.StatefulSet{},
		services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, policies: map[string]*networkingv1.NetworkPolicy{}, monitors: map[string]*serviceMonitor{}}
	strict := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		for _, doc := range docSep.Split(files[name], -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var meta metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
			var obj runtime.Object
			if meta.Kind == "ServiceMonitor" {
				sm := &serviceMonitor{}
				if err := yaml.UnmarshalStrict([]byte(doc), sm); err != nil {
					t.Fatalf("%s: ServiceMonitor: %v", name, err)
				}
				m.monitors[sm.Name] = sm
				obj = sm
			} else {
				o, _, err := strict.Decode([]byte(doc), nil, nil)
				if err != nil {
					t.Fatalf("%s: strict decode of %s: %v\n%s", name, meta.Kind, err, doc)
				}
				obj = o
			}
			acc, ok := obj.(metav1.Object)
			if !ok {
				t.Fatalf("%s: %T has no metadata", name, obj)
			}
			key := meta.Kind + "/" + acc.GetName()
			if prev, dup := seen[key]; dup {
				t.Fatalf("%s rendered twice (%s and %s)", key, prev, name)
			}
			seen[key] = name
			if len(acc.GetName()) > 63 {
				t.Errorf("%s: name longer than 63 characters", key)
			}
			if acc.GetLabels()["app.kubernetes.io/instance"] != release {
				t.Errorf("%s lacks the release label", key)
			}
			m.objects = append(m.objects, obj)
			switch o := obj.(type) {
			case *appsv1.Deployment:
				m.deployments[o.Name] = o
			case *appsv1.StatefulSet:
				m.statefulSets[o.Name] = o
			case *corev1.Service:
				m.services[o.Name] = o
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = o
			case *corev1.Secret:
				m.secrets[o.Name] = o
			case *policyv1.PodDisruptionBudget:
				m.pdbs[o.Name] = o
			case *networkingv1.NetworkPolicy:
				m.policies[o.Name] = o
			case *serviceMonitor:
			default:
				t.Fatalf("%s: unexpected kind %T", key, obj)
			}
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func renderOK(t *testing.T, vals map[string]any) *manifest {
	t.Helper()
	files, err := render(t, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return decode(t, files)
}

// podTemplates lists every workload's pod template by workload name.
func (m *manifest) podTemplates() map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for n, d := range m.deployments {
		out["Deployment/"+n] = d.Spec.Template
	}
	for n, s := range m.statefulSets {
		out["StatefulSet/"+n] = s.Spec.Template
	}
	return out
}

// matching returns the workloads whose pods sel selects.
func (m *manifest) matching(t *testing.T, sel *metav1.LabelSelector) []string {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	var out []string
	for n, pt := range m.podTemplates() {
		if s.Matches(labels.Set(pt.Labels)) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (m *manifest) byComponent(component string) map[string]*appsv1.Deployment {
	out := map[string]*appsv1.Deployment{}
	for n, d := range m.deployments {
		if d.Spec.Template.Labels["app.kubernetes.io/component"] == component {
			out[n] = d
		}
	}
	return out
}

func envOf(c corev1.Container) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		out[e.Name] = e
	}
	return out
}

func TestLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{"dev": devValues(t), "external": externalValues(t), "monitored": monitoredValues(t)} {
		t.Run(name, func(t *testing.T) {
			l := lint.AllWithKubeVersion(chartDir, vals, namespace, nil)
			for _, msg := range l.Messages {
				if msg.Severity > support.InfoSev {
					t.Errorf("lint: %s", msg)
				}
			}
			if l.HighestSeverity > support.InfoSev {
				t.Fatalf("lint: highest severity %d", l.HighestSeverity)
			}
		})
	}
	// The chart's bare defaults name no network: `helm lint` without values
	// reports the missing values as information, and must not break on
	// them (rendering refuses them: TestValuesRefused).
	l := lint.AllWithKubeVersion(chartDir, nil, namespace, nil)
	if l.HighestSeverity > support.InfoSev {
		t.Fatalf("lint of the bare defaults: %v", l.Messages)
	}
}

func TestRenderDev(t *testing.T) {
	m := renderOK(t, devValues(t))

	// Every institution has a replicator and a query service on its own
	// replica; every recorder a consensus-ledger and an exit-contract.
	replicators, queries := m.byComponent("replicator"), m.byComponent("query")
	consensus, exits := m.byComponent("consensus-ledger"), m.byComponent("exit-contract")
	recorders := 0
	for _, in := range devInstitutions {
		r := replicators[fullname+"-replicator-"+in.name]
		if r == nil {
			t.Fatalf("no replicator for %s", in.name)
		}
		if *r.Spec.Replicas != 1 || r.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("replicator %s: %d replicas, strategy %s; want exactly one at a time", in.name, *r.Spec.Replicas, r.Spec.Strategy.Type)
		}
		env := envOf(r.Spec.Template.Spec.Containers[0])
		if env["CREDITCHAIN_INSTITUTION"].Value != in.id {
			t.Errorf("replicator %s serves %q", in.name, env["CREDITCHAIN_INSTITUTION"].Value)
		}
		wantDB := fmt.Sprintf("postgres://creditchain:$(PGPASSWORD)@%s-pg-%s:5432/replica?sslmode=disable", fullname, in.name)
		if env["CREDITCHAIN_DATABASE"].Value != wantDB || env["PGPASSWORD"].ValueFrom.SecretKeyRef.Name != fullname+"-pg-"+in.name {
			t.Errorf("replicator %s database %q from %v", in.name, env["CREDITCHAIN_DATABASE"].Value, env["PGPASSWORD"].ValueFrom)
		}
		if queries[fullname+"-query-"+in.name] == nil {
			t.Errorf("no query service for %s", in.name)
		}
		if m.statefulSets[fullname+"-pg-"+in.name] == nil {
			t.Errorf("no PostgreSQL for %s", in.name)
		}
		c, e := consensus[fullname+"-consensus-"+in.name], exits[fullname+"-exit-"+in.name]
		if (c != nil) != in.recorder || (e != nil) != in.recorder {
			t.Errorf("%s (recorder %v): consensus-ledger %v, exit-contract %v", in.name, in.recorder, c != nil, e != nil)
		}
		if in.recorder {
			recorders++
			if got := keySecretOf(c.Spec.Template.Spec); got != fullname+"-key-"+in.name {
				t.Errorf("consensus-ledger %s uses key Secret %q", in.name, got)
			}
			if got := envOf(c.Spec.Template.Spec.Containers[0])["CREDITCHAIN_DATABASE"].Value; !strings.HasSuffix(got, "/consensus?sslmode=disable") {
				t.Errorf("consensus-ledger %s database %q, want its own consensus database", in.name, got)
			}
			if got := envOf(e.Spec.Template.Spec.Containers[0])["DATABASE_URL"].Value; !strings.HasSuffix(got, "/replica?sslmode=disable") {
				t.Errorf("exit-contract %s database %q, want the replica", in.name, got)
			}
		}
	}
	if len(replicators) != len(devInstitutions) || len(queries) != len(devInstitutions) || len(consensus) != recorders || len(exits) != recorders {
		t.Fatalf("%d replicators, %d queries, %d consensus-ledgers, %d exit-contracts for %d institutions, %d recorders",
			len(replicators), len(queries), len(consensus), len(exits), len(devInstitutions), recorders)
	}
	if len(m.byComponent("intake")) != 1 || len(m.byComponent("signer")) != 1 {
		t.Fatal("want one intake and one signer Deployment")
	}
	signer := m.deployments[fullname+"-signer"]
	if keySecretOf(signer.Spec.Template.Spec) != fullname+"-key-center" ||
		!strings.Contains(envOf(signer.Spec.Template.Spec.Containers[0])["CREDITCHAIN_DATABASE"].Value, "-pg-center:") {
		t.Error("the signer does not run on the issuer's replica with the issuer's key")
	}

	// One key Secret per institution, except the one that names its own.
	for _, in := range devInstitutions {
		s := m.secrets[fullname+"-key-"+in.name]
		if in.name == "bank" {
			if s != nil {
				t.Error("a key Secret was made for an institution with an existing one")
			}
			continue
		}
		if s == nil || !strings.Contains(string(s.Data["key.json"]), in.id) {
			t.Errorf("key Secret of %s: %v", in.name, s)
		}
		if pw := m.secrets[fullname+"-pg-"+in.name]; pw == nil || len(pw.Data["password"]) != 32 {
			t.Errorf("PostgreSQL password Secret of %s missing or short", in.name)
		}
	}
	// The genesis is mounted from a ConfigMap holding the file as given.
	want, _ := os.ReadFile("testdata/genesis.json")
	if g := m.configMaps[fullname+"-genesis"]; g == nil || g.Data["genesis.json"] != string(want) {
		t.Fatal("genesis ConfigMap missing or altered")
	}

	checkNATS(t, m, 3)
	checkNATSAuth(t, m)
	checkEtcd(t, m, 3)
	checkWorkloads(t, m)
	checkFlags(t, m)
	checkSelectors(t, m)
	checkPDBs(t, m, []string{"nats", "etcd", "intake", "consensus-ledger", "exit-contract", "replicator", "signer"})
	checkNetworkPolicies(t, m, true)
	checkDashboard(t, m)
	if len(m.monitors) != 0 {
		t.Error("a ServiceMonitor was rendered while disabled")
	}
	for _, d := range m.deployments {
		if d.Name != fullname+"-signer" && d.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution == nil {
			t.Errorf("%s: no soft anti-affinity by default", d.Name)
		}
	}
}

func keySecretOf(spec corev1.PodSpec) string {
	for _, v := range spec.Volumes {
		if v.Name == "key" && v.Secret != nil {
			return v.Secret.SecretName
		}
	}
	return ""
}

// checkNATS parses the rendered nats.conf with the NATS server's own
// configuration loader.
func checkNATS(t *testing.T, m *manifest, replicas int32) {
	t.Helper()
	sts := m.statefulSets[fullname+"-nats"]
	if sts == nil || *sts.Spec.Replicas != replicas || len(sts.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("NATS StatefulSet: %v", sts)
	}
	if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Error("NATS servers must start in parallel to form their cluster")
	}
	cm := m.configMaps[fullname+"-nats"]
	if cm == nil {
		t.Fatal("no NATS ConfigMap")
	}
	var users []byte
	if includeRe.MatchString(cm.Data["nats.conf"]) {
		users = []byte("authorization { users = [{user: probe, password: probe}] }\n")
	}
	opts := parseNATSConfig(t, cm.Data["nats.conf"], users)
	if !opts.SyncAlways {
		t.Error("NATS JetStream does not sync every write (sync_interval: always)")
	}
	if opts.MaxPayload != 8<<20 {
		t.Errorf("NATS max_payload %d, want 8 MiB (pkg/harness.MaxPayload)", opts.MaxPayload)
	}
	if !opts.JetStream || opts.StoreDir != "/data/jetstream" {
		t.Errorf("JetStream %v in %q, want file storage on the volume", opts.JetStream, opts.StoreDir)
	}
	if len(opts.Routes) != int(replicas) || opts.Cluster.Port != 6222 {
		t.Errorf("NATS cluster: %d routes, port %d", len(opts.Routes), opts.Cluster.Port)
	}
	if opts.ServerName != "cc-creditchain-nats-0" {
		t.Errorf("server_name %q, want the pod name", opts.ServerName)
	}
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if v, ok := envOf(c)["CREDITCHAIN_STREAM_REPLICAS"]; !ok || v.Value != fmt.Sprint(replicas) {
				t.Errorf("%s: CREDITCHAIN_STREAM_REPLICAS %q, want %d", d.Name, v.Value, replicas)
			}
		}
	}
}

func checkEtcd(t *testing.T, m *manifest, replicas int32) {
	t.Helper()
	sts := m.statefulSets[fullname+"-etcd"]
	if sts == nil || *sts.Spec.Replicas != replicas {
		t.Fatalf("etcd StatefulSet: %v", sts)
	}
	var cluster string
	for _, a := range sts.Spec.Template.Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(a, "--initial-cluster="); ok {
			cluster = v
		}
	}
	if n := len(strings.Split(cluster, ",")); n != int(replicas) {
		t.Errorf("etcd initial cluster %q has %d members, want %d", cluster, n, replicas)
	}
	want := fmt.Sprintf("http://%s-etcd-0.%s-etcd-headless:2379", fullname, fullname)
	if got := envOf(m.deployments[fullname+"-intake"].Spec.Template.Spec.Containers[0])["CREDITCHAIN_ETCD"].Value; !strings.HasPrefix(got, want) || len(strings.Split(got, ",")) != int(replicas) {
		t.Errorf("intake's etcd endpoints %q", got)
	}
}

// checkWorkloads: every container of every Deployment and StatefulSet has
// liveness and readiness probes and resource requests and limits; the
// creditchain services probe /healthz and /readyz.
func checkWorkloads(t *testing.T, m *manifest) {
	t.Helper()
	for name, pt := range m.podTemplates() {
		if len(pt.Spec.Containers) == 0 {
			t.Errorf("%s has no container", name)
		}
		for _, c := range pt.Spec.Containers {
			if namesRegistry(c.Image) {
				t.Errorf("%s/%s: image %q names a registry host", name, c.Name, c.Image)
			}
			if c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s/%s lacks a liveness or readiness probe", name, c.Name)
				continue
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s lacks resource requests or a memory limit", name, c.Name)
			}
			if pt.Spec.SecurityContext == nil || pt.Spec.SecurityContext.RunAsNonRoot == nil || !*pt.Spec.SecurityContext.RunAsNonRoot {
				t.Errorf("%s may run as root", name)
			}
			if !strings.HasPrefix(c.Image, "creditchain:") {
				continue
			}
			if c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" ||
				c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("%s/%s probes are not /healthz and /readyz", name, c.Name)
			}
			if envOf(c)["CREDITCHAIN_LISTEN"].Value != "0.0.0.0:8080" || len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 {
				t.Errorf("%s/%s does not listen on its declared port", name, c.Name)
			}
			if c.Image != "creditchain:0.1.0" {
				t.Errorf("%s/%s image %q, want the chart's appVersion", name, c.Name, c.Image)
			}
		}
	}
}

// flagsOf reads which environment variables a service binary takes, from
// its main.go: pkg/svc flags fall back to CREDITCHAIN_<FLAG>, the
// exit-contract names its variables itself.
func flagsOf(t *testing.T, component string) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("../../services", component, "cmd", component, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	if strings.Contains(string(src), "svc.NewFlags(") {
		for _, f := range []string{"genesis", "listen", "nats", "etcd"} {
			out["CREDITCHAIN_"+strings.ToUpper(f)] = true
		}
		for _, mm := range regexp.MustCompile(`f\.String\("([a-z-]+)"`).FindAllStringSubmatch(string(src), -1) {
			out["CREDITCHAIN_"+strings.ToUpper(strings.ReplaceAll(mm[1], "-", "_"))] = true
		}
	}
	for _, mm := range regexp.MustCompile(`env\("([A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		out[mm[1]] = true
	}
	if len(out) == 0 {
		t.Fatalf("found no flags in %s's main.go", component)
	}
	return out
}

// checkFlags: each service gets the settings its binary requires, under
// names the binary reads.
func checkFlags(t *testing.T, m *manifest) {
	t.Helper()
	required := map[string][]string{
		"intake":           {"CREDITCHAIN_GENESIS", "CREDITCHAIN_NATS", "CREDITCHAIN_ETCD", "CREDITCHAIN_LISTEN"},
		"consensus-ledger": {"CREDITCHAIN_GENESIS", "CREDITCHAIN_KEY", "CREDITCHAIN_DATABASE", "CREDITCHAIN_NATS", "CREDITCHAIN_ETCD"},
		"replicator":       {"CREDITCHAIN_GENESIS", "CREDITCHAIN_INSTITUTION", "CREDITCHAIN_DATABASE", "CREDITCHAIN_NATS"},
		"exit-contract":    {"CREDITCHAIN_KEY_FILE", "DATABASE_URL", "CREDITCHAIN_INTAKE_URL", "CREDITCHAIN_LISTEN"},
		"signer":           {"CREDITCHAIN_KEY", "CREDITCHAIN_DATABASE", "CREDITCHAIN_INTAKE", "CREDITCHAIN_PORTAL"},
		"query":            {"CREDITCHAIN_GENESIS", "CREDITCHAIN_DATABASE"},
	}
	for component, want := range required {
		known := flagsOf(t, component)
		deps := m.byComponent(component)
		if len(deps) == 0 {
			t.Fatalf("no %s", component)
		}
		for name, d := range deps {
			c := d.Spec.Template.Spec.Containers[0]
			if len(c.Command) != 1 || c.Command[0] != component {
				t.Errorf("%s runs %v, want the %s binary", name, c.Command, component)
			}
			env := envOf(c)
			for _, w := range want {
				if !known[w] {
					t.Fatalf("%s's binary does not read %s", component, w)
				}
				if v, ok := env[w]; !ok || (v.Value == "" && v.ValueFrom == nil) {
					t.Errorf("%s: %s not set", name, w)
				}
			}
			for k := range env {
				if !strings.HasPrefix(k, "CREDITCHAIN_") {
					continue
				}
				common := k == "CREDITCHAIN_STREAM_REPLICAS" || k == "CREDITCHAIN_GENESIS" || k == "CREDITCHAIN_NATS" || k == "CREDITCHAIN_ETCD" || k == "CREDITCHAIN_LISTEN"
				if !common && !known[k] {
					t.Errorf("%s: %s is read by no flag of %s", name, k, component)
				}
			}
			// Files the services are pointed at are mounted there.
			for k, path := range map[string]string{"CREDITCHAIN_GENESIS": "/etc/creditchain/genesis/", "CREDITCHAIN_KEY": "/etc/creditchain/key/", "CREDITCHAIN_KEY_FILE": "/etc/creditchain/key/"} {
				if v, ok := env[k]; ok && known[k] && !mounted(c, path, v.Value) {
					t.Errorf("%s: %s=%s is not under a mount at %s", name, k, v.Value, path)
				}
			}
		}
	}
}

func mounted(c corev1.Container, dir, file string) bool {
	if !strings.HasPrefix(file, dir) {
		return false
	}
	for _, vm := range c.VolumeMounts {
		if vm.MountPath+"/" == dir {
			return true
		}
	}
	return false
}

// checkSelectors: every Service and workload selector selects pods of the
// release, and every Secret and ConfigMap a pod mounts is rendered (or is
// one the values name as existing).
func checkSelectors(t *testing.T, m *manifest) {
	t.Helper()
	for n, s := range m.services {
		if got := m.matching(t, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}); len(got) == 0 {
			t.Errorf("Service %s selects no pods", n)
		}
	}
	external := map[string]bool{"bank-key": true, "tax-databases": true, "nats-passwords": true}
	for n, pt := range m.podTemplates() {
		for _, v := range pt.Spec.Volumes {
			if v.Secret != nil && m.secrets[v.Secret.SecretName] == nil && !external[v.Secret.SecretName] {
				t.Errorf("%s mounts Secret %s, which is not rendered", n, v.Secret.SecretName)
			}
			if v.ConfigMap != nil && m.configMaps[v.ConfigMap.Name] == nil {
				t.Errorf("%s mounts ConfigMap %s, which is not rendered", n, v.ConfigMap.Name)
			}
		}
		for _, c := range pt.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref := e.ValueFrom.SecretKeyRef
					s := m.secrets[ref.Name]
					if s == nil && !external[ref.Name] {
						t.Errorf("%s: %s from Secret %s, which is not rendered", n, e.Name, ref.Name)
					}
					if s != nil && s.Data[ref.Key] == nil {
						t.Errorf("%s: %s from key %s that Secret %s lacks", n, e.Name, ref.Key, ref.Name)
					}
				}
			}
		}
	}
	for n, d := range m.deployments {
		s, _ := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if !s.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s does not select its own pods", n)
		}
		if got := m.matching(t, d.Spec.Selector); len(got) != 1 {
			t.Errorf("Deployment %s's selector also selects %v", n, got)
		}
	}
}

func checkPDBs(t *testing.T, m *manifest, components []string) {
	t.Helper()
	covered := map[string]bool{}
	for n, p := range m.pdbs {
		if p.Spec.MaxUnavailable == nil || p.Spec.MaxUnavailable.IntValue() != 1 {
			t.Errorf("PDB %s: maxUnavailable %v", n, p.Spec.MaxUnavailable)
		}
		got := m.matching(t, p.Spec.Selector)
		if len(got) == 0 {
			t.Errorf("PDB %s covers no workload", n)
		}
		covered[p.Spec.Selector.MatchLabels["app.kubernetes.io/component"]] = true
	}
	for _, c := range components {
		if !covered[c] {
			t.Errorf("no PodDisruptionBudget for %s", c)
		}
	}
}

func checkNetworkPolicies(t *testing.T, m *manifest, ownServers bool) {
	t.Helper()
	deny := m.policies[fullname+"-default-deny"]
	if deny == nil || len(deny.Spec.Ingress) != 0 || len(m.matching(t, &deny.Spec.PodSelector)) != len(m.podTemplates()) {
		t.Fatal("no default-deny policy over every pod of the release")
	}
	want := []string{"intake", "query", "metrics"}
	if ownServers {
		want = append(want, "nats", "etcd")
		for _, in := range devInstitutions {
			want = append(want, "pg-"+in.name)
		}
	}
	for _, w := range want {
		p := m.policies[fullname+"-"+w]
		if p == nil {
			t.Errorf("no NetworkPolicy %s", w)
			continue
		}
		if len(m.matching(t, &p.Spec.PodSelector)) == 0 || len(p.Spec.Ingress) == 0 {
			t.Errorf("NetworkPolicy %s selects no pods or opens nothing", w)
		}
	}
	if !ownServers {
		return
	}
	// etcd is open to the NATS pods, whose nats-users sidecar follows the
	// membership.
	if pods := m.matching(t, m.policies[fullname+"-etcd"].Spec.Ingress[0].From[0].PodSelector); !slices.Contains(pods, "StatefulSet/"+fullname+"-nats") {
		t.Errorf("etcd is open to %v, not to the NATS servers' nats-users", pods)
	}
	// An institution's database is open to its own services only.
	p := m.policies[fullname+"-pg-court"]
	peer := p.Spec.Ingress[0].From[0].PodSelector
	s, _ := metav1.LabelSelectorAsSelector(peer)
	for n, pt := range m.podTemplates() {
		own := pt.Labels["creditchain.io/institution"] == "court" && pt.Labels["app.kubernetes.io/component"] != "postgresql"
		if s.Matches(labels.Set(pt.Labels)) != own {
			t.Errorf("court's database open to %s: %v", n, !own)
		}
	}
}

// checkDashboard: the dashboard is valid JSON and charts exactly the
// metrics the services export (as declared in their source).
func checkDashboard(t *testing.T, m *manifest) {
	t.Helper()
	cm := m.configMaps[fullname+"-dashboard"]
	if cm == nil || cm.Labels["grafana_dashboard"] != "1" {
		t.Fatal("no dashboard ConfigMap labelled for Grafana")
	}
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(cm.Data["creditchain.json"]), &d); err != nil || d.Title == "" {
		t.Fatalf("dashboard JSON: %v", err)
	}
	metric := regexp.MustCompile(`creditchain_[a-z_]+`)
	used := map[string]bool{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, name := range metric.FindAllString(tg.Expr, -1) {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					name = strings.TrimSuffix(name, suf)
				}
				used[name] = true
			}
		}
	}
	exported := exportedMetrics(t)
	for name := range used {
		if !exported[name] {
			t.Errorf("dashboard charts %s, which no service exports", name)
		}
	}
	for name := range exported {
		if !used[name] {
			t.Errorf("metric %s is on no dashboard panel: add one to deploy/helm/creditchain/dashboards/creditchain.json", name)
		}
	}
}

func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	// Declared as Opts{Name: "..."} or through a helper taking the name
	// first (the exit contract's gauge("...", ...)).
	decl := regexp.MustCompile(`(?:Name:\s*|gauge\()"(creditchain_[a-z_]+)"`)
	out := map[string]bool{}
	err := filepath.WalkDir("../../services", func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, mm := range decl.FindAllStringSubmatch(string(src), -1) {
			out[mm[1]] = true
		}
		return err
	})
	if err != nil || len(out) < 10 {
		t.Fatalf("metrics in services/: %v (%d found)", err, len(out))
	}
	return out
}

func TestRenderExternalServices(t *testing.T) {
	m := renderOK(t, externalValues(t))
	for _, s := range []string{"nats", "etcd"} {
		if m.statefulSets[fullname+"-"+s] != nil {
			t.Errorf("%s StatefulSet rendered with external servers", s)
		}
	}
	for n := range m.statefulSets {
		t.Errorf("StatefulSet %s rendered with external servers", n)
	}
	// Each NATS client connects to every server given as its own user, with
	// the password from the Secret the values name.
	natsUsers := serviceNATSUsers()
	for name, d := range m.deployments {
		env := envOf(d.Spec.Template.Spec.Containers[0])
		user, ok := natsUsers[name]
		checkServiceNATS(t, name, d.Spec.Template.Spec.Containers[0], user, ok, "nats-passwords", []string{"nats-0.infra:4222", "nats-1.infra:4222"})
		if env["CREDITCHAIN_ETCD"].Value != "https://etcd-0.infra:2379,https://etcd-1.infra:2379" {
			t.Errorf("%s: etcd %q", name, env["CREDITCHAIN_ETCD"].Value)
		}
		if _, ok := env["PGPASSWORD"]; ok {
			t.Errorf("%s: a generated password with external databases", name)
		}
	}
	// URLs given in values go to one Secret per institution; the tax office
	// keeps its own.
	for _, in := range devInstitutions {
		r := m.deployments[fullname+"-replicator-"+in.name]
		ref := envOf(r.Spec.Template.Spec.Containers[0])["CREDITCHAIN_DATABASE"].ValueFrom.SecretKeyRef
		if in.name == "tax" {
			if ref.Name != "tax-databases" || m.secrets[fullname+"-db-tax"] != nil {
				t.Errorf("tax: database from %s", ref.Name)
			}
			continue
		}
		s := m.secrets[ref.Name]
		if ref.Key != "replica-url" || s == nil || string(s.Data["replica-url"]) != "postgres://replica@pg-"+in.name+".infra:5432/replica" {
			t.Errorf("%s: replica URL from %s/%s", in.name, ref.Name, ref.Key)
		}
		if in.recorder {
			c := m.deployments[fullname+"-consensus-"+in.name]
			ref := envOf(c.Spec.Template.Spec.Containers[0])["CREDITCHAIN_DATABASE"].ValueFrom.SecretKeyRef
			if ref.Key != "consensus-url" || string(s.Data["consensus-url"]) != "postgres://consensus@pg-"+in.name+".infra:5432/consensus" {
				t.Errorf("%s: consensus URL from %s/%s", in.name, ref.Name, ref.Key)
			}
		}
	}
	checkWorkloads(t, m)
	checkFlags(t, m)
	checkSelectors(t, m)
	checkPDBs(t, m, []string{"intake", "consensus-ledger", "replicator"})
	checkNetworkPolicies(t, m, false)
	if m.secrets[fullname+"-nats-users"] != nil {
		t.Error("NATS passwords generated for a server the chart does not run")
	}
	for _, p := range []string{"nats", "etcd", "pg-court"} {
		if m.policies[fullname+"-"+p] != nil {
			t.Errorf("NetworkPolicy %s for a server the chart does not run", p)
		}
	}
}

// TestRenderNATSWithoutAuth: nats.auth.enabled=false gives the open
// NATS of before, for a trusted network: no users, no sidecar, no
// credentials, and replicators that may create the streams.
func TestRenderNATSWithoutAuth(t *testing.T) {
	v := devValues(t)
	v["nats"] = map[string]any{"auth": map[string]any{"enabled": false}}
	m := renderOK(t, v)
	checkNoNATSAuth(t, m)
	checkNATS(t, m, 3)
	checkWorkloads(t, m)
	checkFlags(t, m)
	checkSelectors(t, m)
	for name, d := range m.deployments {
		env := envOf(d.Spec.Template.Spec.Containers[0])
		if u, ok := env["CREDITCHAIN_NATS"]; ok && u.Value != "nats://"+fullname+"-nats:4222" {
			t.Errorf("%s: NATS %q", name, u.Value)
		}
	}
}

func TestRenderMonitored(t *testing.T) {
	m := renderOK(t, monitoredValues(t))
	sm := m.monitors[fullname]
	if sm == nil || sm.Labels["release"] != "prometheus" || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Fatalf("ServiceMonitor: %+v", sm)
	}
	// It scrapes the Services of the binaries that serve /metrics.
	s, _ := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	scraped := map[string]bool{}
	for _, svc := range m.services {
		if s.Matches(labels.Set(svc.Labels)) {
			scraped[svc.Labels["app.kubernetes.io/component"]] = true
		}
	}
	for _, c := range []string{"intake", "consensus-ledger", "replicator", "signer", "query"} {
		if !scraped[c] {
			t.Errorf("ServiceMonitor does not scrape %s", c)
		}
	}
	for name, d := range m.deployments {
		if d.Name != fullname+"-signer" && d.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			t.Errorf("%s: no hard anti-affinity", name)
		}
		env := envOf(d.Spec.Template.Spec.Containers[0])
		if env["OTEL_EXPORTER_OTLP_ENDPOINT"].Value != "http://otel-collector.monitoring:4317" || env["OTEL_EXPORTER_OTLP_INSECURE"].Value != "true" {
			t.Errorf("%s: tracing not configured", name)
		}
	}
	// Intake is open to the members' namespaces, its own submitters and
	// monitoring, and nothing else.
	p := m.policies[fullname+"-intake"]
	if from := p.Spec.Ingress[0].From; len(from) != 3 || from[0].NamespaceSelector.MatchLabels["creditchain.io/member"] != "true" {
		t.Errorf("intake NetworkPolicy peers: %+v", from)
	}
	checkWorkloads(t, m)
}

// TestValuesRefused: the schema and the templates turn away values that
// would make a broken network, naming what is wrong.
func TestValuesRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(v map[string]any)
		want string
	}{
		{"no genesis", func(v map[string]any) { v["genesis"] = "" }, "genesis"},
		{"unknown value", func(v map[string]any) { v["replicas"] = 3 }, "replicas"},
		{"bad member id", func(v map[string]any) { inst(v, 0)["id"] = "not-a-uscc" }, "id"},
		{"bad name", func(v map[string]any) { inst(v, 1)["name"] = "Court_1" }, "name"},
		{"small NATS payload", func(v map[string]any) { v["nats"] = map[string]any{"enabled": true, "maxPayload": 1 << 20} }, "maxPayload"},
		{"even NATS cluster", func(v map[string]any) { v["nats"] = map[string]any{"enabled": true, "replicas": 2} }, "replicas"},
		{"too many stream replicas", func(v map[string]any) { v["streams"] = map[string]any{"replicas": 7} }, "replicas"},
		{"external NATS without URL", func(v map[string]any) { v["nats"] = map[string]any{"enabled": false} }, "url"},
		{"external NATS without passwords", func(v map[string]any) {
			v["nats"] = map[string]any{"enabled": false, "url": "nats://nats.infra:4222"}
		}, "existingSecret"},
		{"minute-long revocation", func(v map[string]any) {
			v["nats"] = map[string]any{"auth": map[string]any{"interval": "1m"}}
		}, "interval"},
		{"unknown signer institution", func(v map[string]any) { v["signer"] = map[string]any{"institution": "nobody"} }, "nobody"},
		{"missing key", func(v map[string]any) { inst(v, 2)["key"] = map[string]any{} }, "key"},
		{"external database without URL", func(v map[string]any) { v["postgresql"] = map[string]any{"enabled": false} }, "database.url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := devValues(t)
			c.edit(v)
			_, err := render(t, v)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("rendered (err %v); want a refusal naming %q", err, c.want)
			}
		})
	}
}

func inst(v map[string]any, i int) map[string]any {
	return v["institutions"].([]any)[i].(map[string]any)
}
