package helmtest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

const composeFile = "../../docker-compose.yaml"

// loadCompose loads docker-compose.yaml with the Compose specification's
// own loader: schema validation (an unknown or misspelt key fails),
// interpolation, YAML anchors and merge keys, and the consistency checks
// (depends_on and volumes must name defined services and volumes).
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	abs, err := filepath.Abs(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	details, err := loader.LoadConfigFiles(context.Background(), []string{abs}, filepath.Dir(abs))
	if err != nil {
		t.Fatal(err)
	}
	details.Environment = types.Mapping{}
	p, err := loader.LoadWithContext(context.Background(), *details, func(o *loader.Options) {
		o.SetProjectName("creditchain", true)
	})
	if err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	return p
}

func TestCompose(t *testing.T) {
	p := loadCompose(t)
	if p.Name != "creditchain" {
		t.Errorf("project name %q", p.Name)
	}
	ports := map[string]string{}
	for name, s := range p.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s has neither image nor build", name)
		}
		if namesRegistry(s.Image) {
			t.Errorf("%s: image %q names a registry host; use a plain name", name, s.Image)
		}
		for dep := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s depends on undefined service %s", name, dep)
			}
		}
		for _, port := range s.Ports {
			key := port.HostIP + ":" + port.Published + "/" + port.Protocol
			if prev, dup := ports[key]; dup {
				t.Errorf("host port %s published by %s and %s", key, prev, name)
			}
			ports[key] = name
		}
		oneShot := s.Restart == "no"
		if !oneShot && (s.HealthCheck == nil || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Disable) {
			t.Errorf("%s has no health check", name)
		}
		if oneShot && name != "init" {
			t.Errorf("%s does not restart", name)
		}
	}
	if len(ports) == 0 {
		t.Fatal("nothing is published")
	}
	for _, want := range []string{"nats", "etcd", "postgres", "init", "intake", "signer"} {
		if _, ok := p.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	// The portal and intake are where `creditchain dev` puts them.
	if ports[":8080/tcp"] != "query-center" || ports[":8081/tcp"] != "intake" {
		t.Errorf("portal on 8080 is %q, intake on 8081 is %q", ports[":8080/tcp"], ports[":8081/tcp"])
	}

	// The same network as the dev one: each of the six institutions has a
	// replicator and a query service, each recorder a consensus-ledger and
	// an exit-contract, all with the right binary, institution and key.
	for _, in := range devInstitutions {
		r := service(t, p, "replicator-"+in.name, "replicator")
		if env(r, "CREDITCHAIN_INSTITUTION") != in.id || !strings.HasSuffix(env(r, "CREDITCHAIN_DATABASE"), "/replica_"+in.name+"?sslmode=disable") {
			t.Errorf("replicator-%s: institution %q database %q", in.name, env(r, "CREDITCHAIN_INSTITUTION"), env(r, "CREDITCHAIN_DATABASE"))
		}
		q := service(t, p, "query-"+in.name, "query")
		if env(q, "CREDITCHAIN_DATABASE") != env(r, "CREDITCHAIN_DATABASE") {
			t.Errorf("query-%s reads another replica than its replicator writes", in.name)
		}
		if _, ok := q.DependsOn["replicator-"+in.name]; !ok {
			t.Errorf("query-%s starts before its replica exists", in.name)
		}
		_, hasConsensus := p.Services["consensus-"+in.name]
		_, hasExit := p.Services["exit-"+in.name]
		if hasConsensus != in.recorder || hasExit != in.recorder {
			t.Errorf("%s (recorder %v): consensus %v, exit-contract %v", in.name, in.recorder, hasConsensus, hasExit)
		}
		if !in.recorder {
			continue
		}
		c := service(t, p, "consensus-"+in.name, "consensus-ledger")
		if env(c, "CREDITCHAIN_KEY") != "/etc/creditchain/keys/"+in.id+".json" || !strings.HasSuffix(env(c, "CREDITCHAIN_DATABASE"), "/consensus_"+in.name+"?sslmode=disable") {
			t.Errorf("consensus-%s: key %q database %q", in.name, env(c, "CREDITCHAIN_KEY"), env(c, "CREDITCHAIN_DATABASE"))
		}
		e := service(t, p, "exit-"+in.name, "exit-contract")
		if env(e, "CREDITCHAIN_KEY_FILE") != env(c, "CREDITCHAIN_KEY") || env(e, "DATABASE_URL") != env(r, "CREDITCHAIN_DATABASE") || env(e, "CREDITCHAIN_INTAKE_URL") != "http://intake:8080" {
			t.Errorf("exit-%s: key %q database %q intake %q", in.name, env(e, "CREDITCHAIN_KEY_FILE"), env(e, "DATABASE_URL"), env(e, "CREDITCHAIN_INTAKE_URL"))
		}
	}
	s := service(t, p, "signer", "signer")
	if env(s, "CREDITCHAIN_KEY") != "/etc/creditchain/keys/"+devInstitutions[0].id+".json" || !strings.HasSuffix(env(s, "CREDITCHAIN_DATABASE"), "/replica_center?sslmode=disable") {
		t.Error("the signer does not run on the issuer's replica with the issuer's key")
	}
	// Every service binary reads the variables it is given.
	for name, svc := range p.Services {
		if len(svc.Command) != 1 || svc.Image != "creditchain:dev" || len(svc.Entrypoint) > 0 {
			continue // the init script
		}
		known := flagsOf(t, svc.Command[0])
		for k := range svc.Environment {
			common := k == "CREDITCHAIN_STREAM_REPLICAS" || k == "CREDITCHAIN_GENESIS" || k == "CREDITCHAIN_NATS" || k == "CREDITCHAIN_ETCD" || k == "CREDITCHAIN_LISTEN"
			if !common && !known[k] && !strings.HasPrefix(k, "OTEL_") {
				t.Errorf("%s: %s is read by no flag of %s", name, k, svc.Command[0])
			}
		}
		if svc.User != "65532:65532" || !svc.ReadOnly {
			t.Errorf("%s runs as %q (read-only %v), want the image's unprivileged user on a read-only root", name, svc.User, svc.ReadOnly)
		}
		for _, dep := range []string{"init"} {
			if _, ok := svc.DependsOn[dep]; !ok && !dependsTransitively(p, name, dep) {
				t.Errorf("%s may start before %s", name, dep)
			}
		}
	}

	// Every database a service connects to is created by the init script.
	sql, err := os.ReadFile("../compose/postgres-init.sql")
	if err != nil {
		t.Fatal(err)
	}
	dbs := map[string]bool{}
	for _, m := range regexp.MustCompile(`CREATE DATABASE (\w+);`).FindAllStringSubmatch(string(sql), -1) {
		dbs[m[1]] = true
	}
	dbURL := regexp.MustCompile(`@postgres:5432/(\w+)\?`)
	for name, svc := range p.Services {
		for _, k := range []string{"CREDITCHAIN_DATABASE", "DATABASE_URL"} {
			if m := dbURL.FindStringSubmatch(env(svc, k)); m != nil && !dbs[m[1]] {
				t.Errorf("%s connects to database %s, which postgres-init.sql does not create", name, m[1])
			}
		}
	}

	// The NATS configuration is the production one in miniature.
	var natsConf string
	for _, v := range p.Services["nats"].Volumes {
		if v.Target == "/etc/nats/nats.conf" {
			natsConf = v.Source
		}
	}
	raw, err := os.ReadFile(natsConf)
	if err != nil {
		t.Fatalf("NATS configuration: %v", err)
	}
	opts := parseNATSConfig(t, string(raw), nil)
	if !opts.SyncAlways || opts.MaxPayload != 8<<20 || !opts.JetStream {
		t.Errorf("compose NATS: sync always %v, max_payload %d, JetStream %v", opts.SyncAlways, opts.MaxPayload, opts.JetStream)
	}
	if got := p.Services["nats"].Command; len(got) != 2 || got[1] != "/etc/nats/nats.conf" {
		t.Errorf("nats does not run with its configuration: %v", got)
	}
}

// namesRegistry tells whether an image reference starts with a registry
// host (a first path element with a dot or port, or localhost).
func namesRegistry(image string) bool {
	first, _, more := strings.Cut(image, "/")
	return more && (strings.ContainsAny(first, ".:") || first == "localhost")
}

func service(t *testing.T, p *types.Project, name, binary string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("no service %s", name)
	}
	if len(s.Command) != 1 || s.Command[0] != binary {
		t.Fatalf("%s runs %v, want %s", name, s.Command, binary)
	}
	return s
}

func env(s types.ServiceConfig, k string) string {
	if v := s.Environment[k]; v != nil {
		return *v
	}
	return ""
}

func dependsTransitively(p *types.Project, from, to string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		deps := make([]string, 0)
		for d := range p.Services[n].DependsOn {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		for _, d := range deps {
			if d == to || walk(d) {
				return true
			}
		}
		return false
	}
	return walk(from)
}

// TestDockerfile checks the Dockerfile's structure (no Docker engine
// here to build it): a build stage compiling every binary statically, and
// a final stage that runs as an unprivileged user with every binary the
// chart and docker-compose.yaml run.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(string(raw), "\\\n", " ")
	var froms, users []string
	for _, l := range strings.Split(src, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
			if namesRegistry(f[1]) {
				t.Errorf("FROM %s names a registry host", f[1])
			}
		case "USER":
			users = append(users, f[1])
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got FROM %v", froms)
	}
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "0") || strings.HasPrefix(users[len(users)-1], "root") {
		t.Fatalf("the image runs as %v", users)
	}
	if !strings.Contains(src, "CGO_ENABLED=0") {
		t.Error("binaries are not built static (CGO_ENABLED=0)")
	}
	// Every cmd main package of the repository is built.
	mains, _ := filepath.Glob("../../services/*/cmd/*/main.go")
	mains = append(mains, "../../cmd/creditchain/main.go")
	if len(mains) < 7 {
		t.Fatalf("found %d main packages", len(mains))
	}
	for _, m := range mains {
		pkg := "./" + strings.TrimPrefix(filepath.Dir(m), "../../")
		if !regexp.MustCompile(regexp.QuoteMeta(pkg) + `(\s|$)`).MatchString(src) {
			t.Errorf("the Dockerfile does not build %s", pkg)
		}
	}
}
