package helmtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/creditchain/creditchain/pkg/natsauth"
	"github.com/creditchain/creditchain/pkg/streams"
	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
)

// parseNATSConfig loads a rendered nats.conf as the first server of the
// StatefulSet would ($POD_NAME set), with the server's own parser: a
// setting it does not know or a value it cannot read fails here. The
// configuration sits in config/ and users, when given, is the file it
// includes from auth/, as the pod mounts them.
func parseNATSConfig(t *testing.T, conf string, users []byte) *server.Options {
	t.Helper()
	if conf == "" {
		t.Fatal("empty nats.conf")
	}
	t.Setenv("POD_NAME", "cc-creditchain-nats-0")
	dir := t.TempDir()
	for _, d := range []string{"config", "auth"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if users != nil {
		if err := os.WriteFile(filepath.Join(dir, "auth", "users.conf"), users, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "config", "nats.conf")
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(p)
	if err != nil {
		t.Fatalf("nats.conf: %v\n%s", err, conf)
	}
	return opts
}

// genesisEpoch is the membership of testdata/genesis.json.
func genesisEpoch(t *testing.T) *membership.Epoch {
	t.Helper()
	raw, err := os.ReadFile("testdata/genesis.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Members []membership.Member `json:"members"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &membership.Epoch{Members: g.Members}
}

var includeRe = regexp.MustCompile(`(?m)^\s*include\s+"([^"]+)"`)

func container(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func mountOf(c *corev1.Container, volume string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == volume {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volumeOf(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

// natsUsersFlags are the environment variables `creditchain nats-users`
// reads, from its source.
func natsUsersFlags(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile("../../cmd/creditchain/natsusers/cmd.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`env(?:Duration)?\("([a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		out["CREDITCHAIN_"+strings.ToUpper(m[1])] = true
	}
	if len(out) < 6 {
		t.Fatalf("found only %v in nats-users' flags", out)
	}
	return out
}

// checkNATSAuth: the NATS servers include the users file that the
// nats-users init container writes before they start and its sidecar keeps
// in step with etcd, signalling the server it shares a process namespace
// with; every service connects as its own user with its own password from
// the Secret; and the users file made from the values' institutions gives
// each replica exactly the dev network's permissions (pkg/natsauth): its
// own LEDGER consumer and SIDECARS, nothing else.
func checkNATSAuth(t *testing.T, m *manifest) {
	t.Helper()
	sts := m.statefulSets[fullname+"-nats"]
	spec := sts.Spec.Template.Spec
	conf := m.configMaps[fullname+"-nats"].Data["nats.conf"]
	if spec.ShareProcessNamespace == nil || !*spec.ShareProcessNamespace {
		t.Error("the nats-users sidecar cannot signal the server: no shared process namespace")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the NATS pods mount a service account token they have no use for")
	}
	natsC, side := container(spec.Containers, "nats"), container(spec.Containers, "nats-users")
	if len(spec.InitContainers) != 1 || natsC == nil || side == nil {
		t.Fatalf("NATS pod: init containers %d, nats %v, nats-users %v", len(spec.InitContainers), natsC != nil, side != nil)
	}
	initC := &spec.InitContainers[0]
	if !slices.Equal(initC.Command, []string{"creditchain", "nats-users", "--once"}) || !slices.Equal(side.Command, []string{"creditchain", "nats-users"}) {
		t.Errorf("init runs %v, sidecar %v", initC.Command, side.Command)
	}
	known := natsUsersFlags(t)
	for _, c := range []*corev1.Container{initC, side} {
		env := envOf(*c)
		for k := range env {
			if strings.HasPrefix(k, "CREDITCHAIN_") && !known[k] {
				t.Errorf("%s: %s is read by no flag of nats-users", c.Name, k)
			}
		}
		for _, k := range []string{"CREDITCHAIN_GENESIS", "CREDITCHAIN_ETCD", "CREDITCHAIN_PASSWORDS", "CREDITCHAIN_OUT"} {
			if env[k].Value == "" {
				t.Errorf("%s: %s not set", c.Name, k)
			}
		}
		if !mounted(*c, "/etc/creditchain/genesis/", env["CREDITCHAIN_GENESIS"].Value) {
			t.Errorf("%s: genesis not mounted", c.Name)
		}
		if env["CREDITCHAIN_ETCD"].Value != envOf(m.deployments[fullname+"-intake"].Spec.Template.Spec.Containers[0])["CREDITCHAIN_ETCD"].Value {
			t.Errorf("%s follows another etcd than intake", c.Name)
		}
		// The passwords are the Secret the services take theirs from.
		pw := mountOf(c, "passwords")
		if pw == nil || pw.MountPath != env["CREDITCHAIN_PASSWORDS"].Value || !pw.ReadOnly {
			t.Errorf("%s: passwords mount %+v, flag %q", c.Name, pw, env["CREDITCHAIN_PASSWORDS"].Value)
		}
		// It writes the file the server includes, resolved as the NATS
		// parser does (relative to nats.conf's directory).
		inc := includeRe.FindStringSubmatch(conf)
		cfg, auth := mountOf(natsC, "config"), mountOf(c, "auth")
		if inc == nil || cfg == nil || auth == nil {
			t.Fatalf("%s: include %v, config mount %v, auth mount %v", c.Name, inc, cfg, auth)
		}
		out := env["CREDITCHAIN_OUT"].Value
		if path.Join(cfg.MountPath, inc[1]) != out || path.Dir(out) != auth.MountPath || auth.ReadOnly {
			t.Errorf("%s writes %s (auth volume at %s), the server includes %s", c.Name, out, auth.MountPath, path.Join(cfg.MountPath, inc[1]))
		}
		if !strings.HasPrefix(c.Image, "creditchain:") || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: image %s, resources %v", c.Name, c.Image, c.Resources)
		}
	}
	if a := mountOf(natsC, "auth"); a == nil || a.MountPath != path.Dir(envOf(*side)["CREDITCHAIN_OUT"].Value) || !a.ReadOnly {
		t.Errorf("the server reads the users file from %+v", a)
	}
	if v := volumeOf(spec, "auth"); v == nil || v.EmptyDir == nil {
		t.Error("the users file is not on a volume of the pod's own")
	}
	if v := volumeOf(spec, "passwords"); v == nil || v.Secret == nil || v.Secret.SecretName != fullname+"-nats-users" {
		t.Errorf("passwords volume %+v", v)
	}
	opts := parseNATSConfig(t, conf, []byte("authorization { users = [{user: probe, password: probe}] }\n"))
	// The sidecar signals the pid the server writes and confirms the
	// reload on the server's monitoring port.
	env := envOf(*side)
	run := mountOf(side, "run")
	if env["CREDITCHAIN_PID_FILE"].Value != opts.PidFile || run == nil || path.Dir(opts.PidFile) != run.MountPath {
		t.Errorf("sidecar pid file %q (run volume %+v), server writes %q", env["CREDITCHAIN_PID_FILE"].Value, run, opts.PidFile)
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d", opts.HTTPPort); env["CREDITCHAIN_MONITOR"].Value != want {
		t.Errorf("sidecar monitors %q, the server serves %s", env["CREDITCHAIN_MONITOR"].Value, want)
	}
	if env["CREDITCHAIN_INTERVAL"].Value != "1s" {
		t.Errorf("sidecar interval %q", env["CREDITCHAIN_INTERVAL"].Value)
	}

	// The Secret: a password for the operator, intake, every
	// institution's replica and every recorder's consensus, nothing more.
	sec := m.secrets[fullname+"-nats-users"]
	if sec == nil {
		t.Fatal("no NATS users Secret")
	}
	want := []string{natsauth.Admin, natsauth.Intake}
	for _, in := range devInstitutions {
		want = append(want, natsauth.ReplicaUser(in.id))
		if in.recorder {
			want = append(want, natsauth.ConsensusUser(in.id))
		}
	}
	var keys []string
	passwords := map[string]string{}
	for k, v := range sec.Data {
		keys = append(keys, k)
		passwords[k] = string(v)
		if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).Match(v) {
			t.Errorf("password of %s is not 32 letters and digits", k)
		}
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("NATS Secret keys %v, want %v", keys, want)
	}

	// Each service connects as its own user, with that user's password
	// only; the others do not connect at all.
	users := serviceNATSUsers()
	for name, d := range m.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		user, ok := users[name]
		checkServiceNATS(t, name, c, user, ok, fullname+"-nats-users", []string{fullname + "-nats:4222"})
		if d.Spec.Template.Labels["app.kubernetes.io/component"] == "replicator" && envOf(c)["CREDITCHAIN_CONSUMER_ONLY"].Value != "true" {
			t.Errorf("%s would try to create the streams its user may not touch", name)
		}
	}

	// The users file nats-users writes from the genesis membership and
	// this Secret, included into the rendered configuration.
	e := genesisEpoch(t)
	file, missing, err := natsauth.UsersFile(e, passwords)
	if err != nil || len(missing) != 0 {
		t.Fatalf("users file: missing %v, %v", missing, err)
	}
	opts = parseNATSConfig(t, conf, file)
	parsed := map[string]*server.User{}
	for _, u := range opts.Users {
		parsed[u.Username] = u
	}
	if got := slices.Sorted(maps.Keys(parsed)); !slices.Equal(got, want) {
		t.Errorf("server users %v, want %v", got, want)
	}
	for _, in := range devInstitutions {
		u := parsed[natsauth.ReplicaUser(in.id)]
		if u == nil || u.Password != passwords[u.Username] {
			t.Fatalf("%s: replica user %+v", in.name, u)
		}
		checkReplicaPermissions(t, in, u.Permissions)
	}
	if p := parsed[natsauth.Intake].Permissions; p == nil || may(p.Publish, streams.LedgerSubject) || may(p.Publish, streams.VoteSubjectPrefix+devInstitutions[1].id) {
		t.Error("intake may publish a block or a vote")
	}
	// A removed institution has no user, though its password stays.
	removed := &membership.Epoch{Epoch: 1, Members: slices.Clone(e.Members)}
	removed.Members[5].Status = membership.StatusRemoved
	file, _, _ = natsauth.UsersFile(removed, passwords)
	for _, u := range parseNATSConfig(t, conf, file).Users {
		if u.Username == natsauth.ReplicaUser(removed.Members[5].ID) {
			t.Error("a removed institution keeps its NATS user")
		}
	}
}

// serviceNATSUsers are the NATS users of the services that connect to
// NATS, by Deployment name.
func serviceNATSUsers() map[string]string {
	users := map[string]string{fullname + "-intake": natsauth.Intake}
	for _, in := range devInstitutions {
		users[fullname+"-replicator-"+in.name] = natsauth.ReplicaUser(in.id)
		if in.recorder {
			users[fullname+"-consensus-"+in.name] = natsauth.ConsensusUser(in.id)
		}
	}
	return users
}

// checkServiceNATS: a service with a NATS user (ok) connects to hosts as
// that user, its password from key user of secret, defined before the URL
// that expands it; a service without one gets no NATS setting at all.
func checkServiceNATS(t *testing.T, name string, c corev1.Container, user string, ok bool, secret string, hosts []string) {
	t.Helper()
	env := envOf(c)
	pw, url := env["NATS_PASSWORD"], env["CREDITCHAIN_NATS"]
	if !ok {
		if pw.Name != "" || url.Name != "" {
			t.Errorf("%s has NATS credentials it does not use", name)
		}
		return
	}
	if pw.ValueFrom == nil || pw.ValueFrom.SecretKeyRef == nil || pw.ValueFrom.SecretKeyRef.Name != secret || pw.ValueFrom.SecretKeyRef.Key != user {
		t.Errorf("%s: NATS password from %+v, want key %s of %s", name, pw.ValueFrom, user, secret)
	}
	var want []string
	for _, h := range hosts {
		want = append(want, fmt.Sprintf("nats://%s:$(NATS_PASSWORD)@%s", user, h))
	}
	if url.Value != strings.Join(want, ",") {
		t.Errorf("%s: CREDITCHAIN_NATS %q, want %q", name, url.Value, strings.Join(want, ","))
	}
	if slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "NATS_PASSWORD" }) >
		slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "CREDITCHAIN_NATS" }) {
		t.Errorf("%s: NATS_PASSWORD is defined after the URL that uses it", name)
	}
}

// may reports whether p lets a client use subject, as the server decides:
// an allow matches and no deny does.
func may(p *server.SubjectPermission, subject string) bool {
	if p == nil {
		return true
	}
	allowed := len(p.Allow) == 0
	for _, a := range p.Allow {
		allowed = allowed || server.SubjectMatchesFilter(subject, a)
	}
	for _, d := range p.Deny {
		if server.SubjectMatchesFilter(subject, d) {
			return false
		}
	}
	return allowed
}

// checkReplicaPermissions: an institution's replica user consumes LEDGER
// through its own durable consumer, gets single LEDGER messages and reads
// SIDECARS, with replies on its own inbox; it cannot use another
// institution's consumer or inbox, publish transactions, blocks or votes,
// read TXS or the receipts, or change any stream.
func checkReplicaPermissions(t *testing.T, in devInstitution, p *server.Permissions) {
	t.Helper()
	if p == nil || p.Publish == nil || p.Subscribe == nil {
		t.Fatalf("%s: replica user unrestricted: %+v", in.name, p)
	}
	own := natsauth.ReplicaUser(in.id)
	for _, s := range []string{
		"$JS.API.CONSUMER.CREATE.LEDGER." + own, "$JS.API.CONSUMER.DURABLE.CREATE.LEDGER." + own,
		"$JS.API.CONSUMER.INFO.LEDGER." + own, "$JS.API.CONSUMER.MSG.NEXT.LEDGER." + own,
		"$JS.ACK.LEDGER." + own + ".1.7.7.1700000000000000000.0", "$JS.API.STREAM.INFO.LEDGER",
		"$JS.API.STREAM.MSG.GET.LEDGER", "$JS.API.DIRECT.GET.KV_SIDECARS.$KV.SIDECARS.abc",
	} {
		if !may(p.Publish, s) {
			t.Errorf("%s may not publish %s", own, s)
		}
	}
	never := []string{streams.TxsSubject, streams.LedgerSubject, streams.VoteSubjectPrefix + in.id,
		"$JS.API.STREAM.CREATE.LEDGER", "$JS.API.STREAM.UPDATE.LEDGER", "$JS.API.STREAM.DELETE.LEDGER",
		"$JS.API.STREAM.PURGE.LEDGER", "$JS.API.STREAM.MSG.DELETE.LEDGER", "$JS.API.STREAM.INFO.TXS",
		"$JS.API.CONSUMER.CREATE.TXS." + own, "$JS.API.CONSUMER.MSG.NEXT.TXS." + own,
		"$JS.API.CONSUMER.DELETE.LEDGER." + own, "$KV.SIDECARS.abc", "$KV.RECEIPTS.abc",
		"$JS.API.DIRECT.GET.KV_RECEIPTS.$KV.RECEIPTS.abc", "$JS.API.STREAM.MSG.GET.KV_RECEIPTS"}
	subNever := []string{"_INBOX.x", streams.LedgerSubject, streams.TxsSubject, streams.VoteSubjectPrefix + in.id}
	for _, other := range devInstitutions {
		if other.id == in.id {
			continue
		}
		o := natsauth.ReplicaUser(other.id)
		never = append(never, "$JS.API.CONSUMER.CREATE.LEDGER."+o, "$JS.API.CONSUMER.DURABLE.CREATE.LEDGER."+o,
			"$JS.API.CONSUMER.MSG.NEXT.LEDGER."+o, "$JS.API.CONSUMER.INFO.LEDGER."+o, "$JS.ACK.LEDGER."+o+".1.7.7.1.0")
		subNever = append(subNever, natsauth.ReplicaInboxPrefix(other.id)+".reply")
	}
	for _, s := range never {
		if may(p.Publish, s) {
			t.Errorf("%s may publish %s", own, s)
		}
	}
	if !may(p.Subscribe, natsauth.ReplicaInboxPrefix(in.id)+".reply") {
		t.Errorf("%s may not receive its replies", own)
	}
	for _, s := range subNever {
		if may(p.Subscribe, s) {
			t.Errorf("%s may subscribe to %s", own, s)
		}
	}
	// Nothing else: every subject it may publish is the JetStream account
	// info, LEDGER (its own consumer where a consumer is named) or SIDECARS.
	for _, a := range p.Publish.Allow {
		switch {
		case a == "$JS.API.INFO", strings.Contains(a, "KV_SIDECARS"):
		case strings.Contains(a, ".LEDGER"):
			if (strings.Contains(a, "CONSUMER") || strings.HasPrefix(a, "$JS.ACK")) && !strings.Contains(a, "."+own) {
				t.Errorf("%s may publish %s, a consumer not its own", own, a)
			}
		default:
			t.Errorf("%s may publish %s, outside LEDGER and SIDECARS", own, a)
		}
	}
}

// checkNoNATSAuth: with authorization off there is no users file, no
// sidecar and no credentials.
func checkNoNATSAuth(t *testing.T, m *manifest) {
	t.Helper()
	sts := m.statefulSets[fullname+"-nats"]
	if len(sts.Spec.Template.Spec.InitContainers) != 0 || len(sts.Spec.Template.Spec.Containers) != 1 {
		t.Error("nats-users runs with authorization off")
	}
	opts := parseNATSConfig(t, m.configMaps[fullname+"-nats"].Data["nats.conf"], nil)
	if len(opts.Users) != 0 {
		t.Errorf("users %v with authorization off", opts.Users)
	}
	if m.secrets[fullname+"-nats-users"] != nil {
		t.Error("a NATS users Secret with authorization off")
	}
	for name, d := range m.deployments {
		env := envOf(d.Spec.Template.Spec.Containers[0])
		if _, ok := env["NATS_PASSWORD"]; ok {
			t.Errorf("%s: a NATS password with authorization off", name)
		}
		if _, ok := env["CREDITCHAIN_CONSUMER_ONLY"]; ok {
			t.Errorf("%s: consumer-only with authorization off", name)
		}
	}
}
