package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Clients of the debuggers' protocols, for the dev --debug tests: the Chrome
// DevTools protocol (Node's inspector) over a websocket, written here on the
// standard library (RFC 6455 client side: a handshake, masked text frames
// out, unmasked frames in) rather than adding a dependency for tests alone.
// Delve's JSON-RPC needs only net/rpc/jsonrpc (dev_debug_test.go).

// cdpClient speaks the Chrome DevTools protocol to one inspector target.
type cdpClient struct {
	conn net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	events  chan cdpMessage
	err     error
}

type cdpMessage struct {
	ID     int             `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// dialCDP connects to the first target the inspector on addr lists.
func dialCDP(addr string) (*cdpClient, error) {
	resp, err := http.Get("http://" + addr + "/json/list")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var targets []struct {
		URL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return nil, fmt.Errorf("/json/list: %w", err)
	}
	if len(targets) == 0 || targets[0].URL == "" {
		return nil, errors.New("the inspector lists no target")
	}
	u, err := url.Parse(targets[0].URL)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.RequestURI(), u.Host, k)
	br := bufio.NewReader(conn)
	hs, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if hs.StatusCode != http.StatusSwitchingProtocols || hs.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("websocket handshake: %s", hs.Status)
	}
	c := &cdpClient{conn: conn, br: br, waiting: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 1024)}
	go c.read()
	return c, nil
}

func (c *cdpClient) Close() error { return c.conn.Close() }

// call sends method and waits for its result.
func (c *cdpClient) call(method string, params any, result any) error {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMessage, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err := c.write(0x1, b); err != nil {
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: connection closed: %v", method, c.err)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: no answer within 30s", method)
	}
}

// event waits for the next event named method.
func (c *cdpClient) event(method string, d time.Duration) (json.RawMessage, error) {
	t := time.After(d)
	for {
		select {
		case m, ok := <-c.events:
			if !ok {
				return nil, fmt.Errorf("waiting for %s: connection closed: %v", method, c.err)
			}
			if m.Method == method {
				return m.Params, nil
			}
		case <-t:
			return nil, fmt.Errorf("no %s within %s", method, d)
		}
	}
}

// write sends one masked frame.
func (c *cdpClient) write(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	h := []byte{0x80 | op}
	switch n := len(p); {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n <= 0xffff:
		h = append(h, 0x80|126, byte(n>>8), byte(n))
	default:
		h = append(h, 0x80|127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	h = append(h, mask[:]...)
	m := make([]byte, len(p))
	for i := range p {
		m[i] = p[i] ^ mask[i%4]
	}
	_, err := c.conn.Write(append(h, m...))
	return err
}

// read dispatches the server's messages until the connection ends.
func (c *cdpClient) read() {
	var msg []byte
	err := func() error {
		for {
			var h [2]byte
			if _, err := io.ReadFull(c.br, h[:]); err != nil {
				return err
			}
			fin, op := h[0]&0x80 != 0, h[0]&0x0f
			n := uint64(h[1] & 0x7f)
			switch n {
			case 126:
				var b [2]byte
				if _, err := io.ReadFull(c.br, b[:]); err != nil {
					return err
				}
				n = uint64(binary.BigEndian.Uint16(b[:]))
			case 127:
				var b [8]byte
				if _, err := io.ReadFull(c.br, b[:]); err != nil {
					return err
				}
				n = binary.BigEndian.Uint64(b[:])
			}
			p := make([]byte, n)
			if _, err := io.ReadFull(c.br, p); err != nil {
				return err
			}
			switch op {
			case 0x8:
				return errors.New("closed by the inspector")
			case 0x9:
				if err := c.write(0xa, p); err != nil {
					return err
				}
				continue
			case 0xa:
				continue
			}
			msg = append(msg, p...)
			if !fin {
				continue
			}
			var m cdpMessage
			if err := json.Unmarshal(msg, &m); err != nil {
				return fmt.Errorf("message %q: %w", msg, err)
			}
			msg = nil
			if m.ID != 0 {
				c.mu.Lock()
				ch := c.waiting[m.ID]
				delete(c.waiting, m.ID)
				c.mu.Unlock()
				if ch != nil {
					ch <- m
				}
				continue
			}
			select {
			case c.events <- m:
			default: // nobody reads that many: drop
			}
		}
	}()
	c.mu.Lock()
	c.err = err
	for id, ch := range c.waiting {
		close(ch)
		delete(c.waiting, id)
	}
	c.mu.Unlock()
	close(c.events)
}

// sourceMapLine maps a 0-based generated line of a source map to the 1-based
// line of its source (the first mapping on that line), for a test to check
// that a breakpoint in a bundle is the handler's line in the user's file.
func sourceMapLine(mapJSON []byte, genLine int) (source string, line int, err error) {
	var sm struct {
		Sources  []string `json:"sources"`
		Mappings string   `json:"mappings"`
	}
	if err := json.Unmarshal(mapJSON, &sm); err != nil {
		return "", 0, err
	}
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var src, srcLine int
	for gl, group := range strings.Split(sm.Mappings, ";") {
		for _, seg := range strings.Split(group, ",") {
			if seg == "" {
				continue
			}
			var fields []int
			val, shift := 0, 0
			for _, ch := range seg {
				d := strings.IndexRune(b64, ch)
				if d < 0 {
					return "", 0, fmt.Errorf("bad mapping %q", seg)
				}
				val += (d & 31) << shift
				if d&32 != 0 {
					shift += 5
					continue
				}
				if val&1 != 0 {
					fields = append(fields, -(val >> 1))
				} else {
					fields = append(fields, val>>1)
				}
				val, shift = 0, 0
			}
			if len(fields) >= 4 {
				src += fields[1]
				srcLine += fields[2]
				if gl == genLine && src < len(sm.Sources) {
					return sm.Sources[src], srcLine + 1, nil
				}
			}
		}
		if gl >= genLine {
			break
		}
	}
	return "", 0, fmt.Errorf("no mapping on generated line %d", genLine)
}
