package supervisor

import (
	"syscall"
	"testing"
)

func TestWorkerCredential(t *testing.T) {
	if c, err := workerCredential("", ""); c != nil || err != nil {
		t.Fatalf("no -u/-g gives %+v, %v", c, err)
	}
	if _, err := workerCredential("no-such-user-gonicorn", ""); err == nil {
		t.Fatal("unknown user accepted")
	}
	if _, err := workerCredential("", "no-such-group-gonicorn"); err == nil {
		t.Fatal("unknown group accepted")
	}
	if syscall.Geteuid() != 0 {
		t.Skip("the rest needs root")
	}
	c, err := workerCredential("65534", "65533")
	if err != nil {
		t.Fatal(err)
	}
	if c.Uid != 65534 || c.Gid != 65533 || c.NoSetGroups || len(c.Groups) != 0 {
		t.Fatalf("credential %+v: want uid 65534, gid 65533, supplementary groups cleared", c)
	}
}
