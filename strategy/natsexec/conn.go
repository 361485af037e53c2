package natsexec

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// DefaultURL is the NATS server that [New] executors use unless told
// otherwise: one on this machine, on NATS's standard port.
const DefaultURL = "nats://127.0.0.1:4222"

// DefaultPrefix starts the subjects of a pool of NATS workers unless
// told otherwise.
const DefaultPrefix = "primetime"

// Conn says how [New] executors and [Workers] reach a NATS server,
// with what credentials, and which pool of workers there they use. The
// zero value is the server at [DefaultURL], without credentials, and
// the pool [DefaultPrefix].
//
// At most one kind of credential is given: a token; a user and a
// password; an nkey seed, or a file holding one; or a credentials file (a
// JWT and its nkey seed, as nsc writes them). With an nkey, the seed never
// leaves this process: the client signs the server's challenge. A tls://
// URL, or any TLS file, connects with TLS, trusting the system's roots or
// CAFile.
type Conn struct {
	// URL is the NATS server's; "" means DefaultURL.
	URL string `json:"url,omitempty"`
	// Prefix starts the subjects of the pool's tasks ("PREFIX.tasks"), so
	// that several pools share a server; "" means DefaultPrefix.
	Prefix string `json:"prefix,omitempty"`

	Token        string `json:"token,omitempty"`
	User         string `json:"user,omitempty"`
	Password     string `json:"password,omitempty"`
	NKeySeed     string `json:"nkey_seed,omitempty"`
	NKeySeedFile string `json:"nkey_seed_file,omitempty"`
	CredsFile    string `json:"creds_file,omitempty"`

	// CAFile holds the certificates to trust; CertFile and KeyFile are
	// the client's certificate and key, for a server that asks for one.
	CAFile   string `json:"ca_file,omitempty"`
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
}

// url returns the server's URL.
func (c Conn) url() string {
	if c.URL == "" {
		return DefaultURL
	}
	return c.URL
}

// Check reports what is wrong with c, in one line: a URL that is not a
// NATS server's, a prefix that is not one subject token, two kinds of
// credentials, a key without its certificate.
func (c Conn) Check() error {
	u, err := url.Parse(c.url())
	if err != nil || !slices.Contains([]string{"nats", "tls", "ws", "wss"}, u.Scheme) || u.Host == "" {
		return fmt.Errorf("%q is not a NATS URL such as %s", c.URL, DefaultURL)
	}
	if c.Prefix != "" && (strings.ContainsAny(c.Prefix, ".*> \t\r\n") || !isPrintable(c.Prefix)) {
		return fmt.Errorf("NATS prefix %q must be one subject token: no dot, space, * or >", c.Prefix)
	}
	kinds := 0
	for _, given := range []bool{c.Token != "", c.User != "" || c.Password != "", c.NKeySeed != "", c.NKeySeedFile != "", c.CredsFile != ""} {
		if given {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return errors.New("give one kind of NATS credential: a token, a user and password, an nkey seed or a credentials file")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return errors.New("a NATS client certificate needs both its certificate file and its key file")
	}
	return nil
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// forPool names the pool after a server's URL, unless it is the default
// one: " (pool PREFIX)".
func (c Conn) forPool() string {
	if c.Prefix == "" || c.Prefix == DefaultPrefix {
		return ""
	}
	return " (pool " + c.Prefix + ")"
}

// prefix returns the start of the pool's subjects.
func (c Conn) prefix() string {
	if c.Prefix == "" {
		return DefaultPrefix
	}
	return c.Prefix
}

// The subjects of a pool: see natsproto.go.
func (c Conn) tasksSubject() string   { return c.prefix() + ".tasks" }
func (c Conn) cancelSubject() string  { return c.prefix() + ".cancel" }
func (c Conn) workersSubject() string { return c.prefix() + ".workers" }
func (c Conn) group() string          { return c.prefix() + "-workers" }

// connect connects to the server as name, reconnecting for ever once
// connected, with handlers for the connection's loss and return.
func (c Conn) connect(name string, extra ...nats.Option) (*nats.Conn, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	opts := []nats.Option{
		nats.Name(name),
		nats.Timeout(natsConnectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
	}
	switch {
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	case c.User != "" || c.Password != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	case c.NKeySeed != "":
		kp, err := nkeys.FromSeed([]byte(c.NKeySeed))
		if err != nil {
			return nil, fmt.Errorf("the NATS nkey seed: %w", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("the NATS nkey seed: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	case c.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("reading the NATS nkey seed: %w", err)
		}
		opts = append(opts, o)
	case c.CredsFile != "":
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	nc, err := nats.Connect(c.url(), append(opts, extra...)...)
	switch {
	case errors.Is(err, nats.ErrAuthorization) || (err != nil && strings.Contains(strings.ToLower(err.Error()), "authorization violation")):
		return nil, fmt.Errorf("the NATS server at %s refuses these credentials: %w", c.url(), err)
	case errors.Is(err, nats.ErrNoInfoReceived) || errors.Is(err, nats.ErrTimeout):
		return nil, fmt.Errorf("what answers at %s does not speak NATS: %w", c.url(), err)
	case err != nil:
		return nil, fmt.Errorf("connecting to the NATS server at %s: %w", c.url(), err)
	}
	return nc, nil
}
