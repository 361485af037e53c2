package loadtest

import (
	"bufio"
	"encoding/hex"
	"net"
	"os"
	"strconv"
	"strings"
)

// listensHere reports whether the TCP address addr is listened on by a
// socket of this process: the server runs in the generator's process. It
// reads the kernel's table of TCP sockets for the listening ones at addr's
// port and address (or a wildcard address), and this process's
// descriptors for their inodes.
func listensHere(addr string) bool {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return false
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeningAt(table, ta, inodes)
	}
	if len(inodes) == 0 {
		return false
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false
	}
	for _, fd := range fds {
		link, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok && inodes[strings.TrimSuffix(inode, "]")] {
			return true
		}
	}
	return false
}

// listeningAt adds to inodes those of the sockets of table (the format of
// /proc/net/tcp) that listen at ta.
func listeningAt(table string, ta *net.TCPAddr, inodes map[string]bool) {
	f, err := os.Open(table)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" { // TCP_LISTEN
			continue
		}
		host, port, ok := strings.Cut(f[1], ":")
		p, err := strconv.ParseUint(port, 16, 16)
		if !ok || err != nil || int(p) != ta.Port {
			continue
		}
		if ip := procIP(host); ip != nil && (ip.IsUnspecified() || ip.Equal(ta.IP)) {
			inodes[f[9]] = true
		}
	}
}

// procIP decodes an address of /proc/net/tcp: the bytes of each 32-bit
// word in the machine's order, which is little-endian on the machines that
// run this.
func procIP(h string) net.IP {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b)
}
