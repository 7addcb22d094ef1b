package supervisor

import "testing"

func TestParseStatmRSS(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"typical line", "182930 2345 1200 300 0 4000 0\n", 2345, false},
		{"two fields", "1 2", 2, false},
		{"one field", "12345", 0, true},
		{"empty", "", 0, true},
		{"resident not a number", "1 x 3", 0, true},
		{"overflow", "1 99999999999999999999999999", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatmRSS([]byte(tc.in))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseStatmRSS(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func FuzzParseStatmRSS(f *testing.F) {
	f.Add([]byte("182930 2345 1200 300 0 4000 0\n"))
	f.Add([]byte(" "))
	f.Add([]byte("1  "))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := parseStatmRSS(b); err == nil && n < 0 {
			t.Fatalf("negative RSS %d from %q", n, b)
		}
	})
}

func TestLauncherReadsOwnRSS(t *testing.T) {
	var l execLauncher
	n, err := l.rss(pidOfSelf())
	if err != nil || n <= 0 {
		t.Fatalf("rss(self) = %d, %v", n, err)
	}
}
