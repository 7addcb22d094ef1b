package supervisor

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

func TestNotifierSendsDatagrams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := NewNotifier([]string{"NOTIFY_SOCKET=" + path})
	if !n.Enabled() {
		t.Fatal("notifier disabled with NOTIFY_SOCKET set")
	}
	if err := n.Notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, _, err := conn.ReadFromUnix(buf)
	if err != nil || string(buf[:k]) != "READY=1" {
		t.Fatalf("got %q, %v", buf[:k], err)
	}
}

func TestNotifierWithoutSocketDoesNothing(t *testing.T) {
	n := NewNotifier(nil)
	if n.Enabled() || n.Notify("READY=1") != nil {
		t.Fatal("notifier without NOTIFY_SOCKET acted")
	}
}
