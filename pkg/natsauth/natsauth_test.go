package natsauth

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/creditchain/creditchain/pkg/membership"
	"github.com/nats-io/nats-server/v2/server"
)

// names lists the user names of users, sorted.
func names(users []User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Name
	}
	slices.Sort(out)
	return out
}

func epoch() *membership.Epoch {
	return &membership.Epoch{Epoch: 7, Members: []membership.Member{
		{ID: "REC-ACTIVE", Roles: []string{membership.RoleRecorder}},
		{ID: "SUB-ACTIVE", Roles: []string{membership.RoleSubmitter}, Status: membership.StatusActive},
		{ID: "REC-SUSPENDED", Roles: []string{membership.RoleRecorder}, Status: membership.StatusSuspended},
		{ID: "SUB-REMOVED", Roles: []string{membership.RoleSubmitter}, Status: membership.StatusRemoved},
		{ID: "REGULATOR", Roles: []string{membership.RoleRegulator}},
	}}
}

func TestEntitledFollowsMembership(t *testing.T) {
	got := names(Entitled(epoch()))
	want := []string{Admin, Intake, ConsensusUser("REC-ACTIVE"), ReplicaUser("REC-ACTIVE"), ReplicaUser("REGULATOR"), ReplicaUser("SUB-ACTIVE")}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("entitled %v, want %v", got, want)
	}
	if got := names(Entitled(nil)); !slices.Equal(got, []string{Admin, Intake}) {
		t.Fatalf("without a membership: %v", got)
	}
	for _, u := range Entitled(epoch()) {
		if (u.Permissions == nil) != (u.Name == Admin) {
			t.Errorf("%s: unrestricted %v; only the operator is", u.Name, u.Permissions == nil)
		}
	}
}

// parse loads conf as a NATS server does, included from a main
// configuration the way the Helm chart includes it.
func parse(t *testing.T, conf []byte) *server.Options {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "auth"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auth", "users.conf"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "config", "nats.conf")
	if err := os.WriteFile(main, []byte("listen: 127.0.0.1:4222\ninclude \"../auth/users.conf\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(main)
	if err != nil {
		t.Fatalf("users file does not parse: %v\n%s", err, conf)
	}
	return opts
}

// TestUsersFileParsesToTheSameUsers: what NATS reads from the file is
// exactly the users, passwords and permissions Entitled gives, passwords
// with characters that mean something to the NATS lexer included.
func TestUsersFileParsesToTheSameUsers(t *testing.T) {
	e := epoch()
	passwords := map[string]string{}
	for i, u := range Entitled(e) {
		passwords[u.Name] = "pw-" + u.Name
		if i == 1 {
			passwords[u.Name] = "$VAR \"quoted\" back\\slash # not a comment } ] \t\n"
		}
	}
	conf, missing, err := UsersFile(e, passwords)
	if err != nil || len(missing) != 0 {
		t.Fatalf("UsersFile: missing %v, err %v", missing, err)
	}
	opts := parse(t, conf)
	parsed := map[string]*server.User{}
	for _, u := range opts.Users {
		parsed[u.Username] = u
	}
	entitled := Entitled(e)
	if len(parsed) != len(entitled) || len(opts.Nkeys) != 0 {
		t.Fatalf("parsed %d users (%d nkeys), want %d", len(parsed), len(opts.Nkeys), len(entitled))
	}
	for _, u := range entitled {
		p := parsed[u.Name]
		if p == nil {
			t.Fatalf("user %s not in the file", u.Name)
		}
		if p.Password != passwords[u.Name] {
			t.Errorf("%s: password %q, want %q", u.Name, p.Password, passwords[u.Name])
		}
		if u.Permissions == nil {
			if p.Permissions != nil {
				t.Errorf("%s: restricted to %+v", u.Name, p.Permissions)
			}
			continue
		}
		if p.Permissions == nil || p.Permissions.Publish == nil || p.Permissions.Subscribe == nil {
			t.Fatalf("%s: permissions lost: %+v", u.Name, p.Permissions)
		}
		got := Permissions{PublishAllow: p.Permissions.Publish.Allow, PublishDeny: p.Permissions.Publish.Deny,
			SubscribeAllow: p.Permissions.Subscribe.Allow}
		if !reflect.DeepEqual(&got, u.Permissions) {
			t.Errorf("%s: parsed permissions %+v, want %+v", u.Name, got, *u.Permissions)
		}
		if len(p.Permissions.Subscribe.Deny) != 0 {
			t.Errorf("%s: unexpected subscribe deny %v", u.Name, p.Permissions.Subscribe.Deny)
		}
	}
}

func TestUsersFileLeavesOutUsersWithoutPassword(t *testing.T) {
	e := epoch()
	passwords := map[string]string{Admin: "a", Intake: "i", ReplicaUser("SUB-ACTIVE"): "s", ReplicaUser("SUB-REMOVED"): "r",
		ConsensusUser("REC-SUSPENDED"): "c", ReplicaUser("REC-ACTIVE"): ""}
	conf, missing, err := UsersFile(e, passwords)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ReplicaUser("REC-ACTIVE"), ConsensusUser("REC-ACTIVE"), ReplicaUser("REGULATOR")}
	if !slices.Equal(missing, want) {
		t.Errorf("missing %v, want %v", missing, want)
	}
	var names []string
	for _, u := range parse(t, conf).Users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	// A password alone grants nothing: the removed and suspended members'
	// users stay out although their passwords are there.
	if want := []string{Admin, Intake, ReplicaUser("SUB-ACTIVE")}; !slices.Equal(names, want) {
		t.Fatalf("users %v, want %v", names, want)
	}
	again, _, _ := UsersFile(e, passwords)
	if string(again) != string(conf) {
		t.Fatal("the same membership and passwords gave different files")
	}
}

// TestUsersFileNeverEmpty: an empty users list would turn authorization
// off, so UsersFile refuses it.
func TestUsersFileNeverEmpty(t *testing.T) {
	conf, missing, err := UsersFile(epoch(), map[string]string{ReplicaUser("SUB-REMOVED"): "r"})
	if !errors.Is(err, ErrNoUsers) || conf != nil {
		t.Fatalf("UsersFile without passwords: %q, %v", conf, err)
	}
	if len(missing) != len(Entitled(epoch())) {
		t.Fatalf("missing %v", missing)
	}
}
