package localstack

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// debuggerListens reports whether something listens on 127.0.0.1:port
// without connecting to it where the system says so (Linux's
// /proc/net/tcp): debugpy's adapter serves one client and exits when that
// client leaves, so a probe that connects and hangs up would end it.
// Elsewhere it connects, which Node's inspector and Delve take in stride.
func debuggerListens(port int) bool {
	if ok, known := procListens(port); known {
		return ok
	}
	c, err := net.DialTimeout("tcp", debugAddr(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// procListens scans /proc/net/tcp for a socket in LISTEN state (0A) on
// 127.0.0.1 or any address at port; known is false without that file.
func procListens(port int) (ok, known bool) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return false, false
	}
	defer f.Close()
	want := map[string]bool{
		fmt.Sprintf("0100007F:%04X", port): true, // 127.0.0.1, little-endian
		fmt.Sprintf("00000000:%04X", port): true, // 0.0.0.0
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 3 && want[fields[1]] && fields[3] == "0A" {
			return true, true
		}
	}
	return false, sc.Err() == nil
}
