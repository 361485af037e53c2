package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNATSFlagsKeepSecretsOffTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte("s3cret\n"), 0o600))
	t.Setenv(envNATSPassword, "pw")
	conn, err := (&natsFlags{url: "nats://127.0.0.1:4222", tokenFile: token, prefix: "blue"}).conn()
	require.NoError(t, err)
	assert.Equal(t, "s3cret", conn.Token)
	assert.Equal(t, "blue", conn.Prefix)
	conn, err = (&natsFlags{url: "nats://127.0.0.1:4222", user: "alice"}).conn()
	require.NoError(t, err)
	assert.Equal(t, "pw", conn.Password, "the password comes from the environment")

	require.NoError(t, os.Chmod(token, 0o644))
	_, err = (&natsFlags{url: "nats://127.0.0.1:4222", tokenFile: token}).conn()
	assert.EqualError(t, err, "-nats-token-file: "+token+" is readable by others (mode -rw-r--r--): chmod 600 it")
	_, err = (&natsFlags{url: "nats://127.0.0.1:4222", user: "alice", nkey: token}).conn()
	assert.EqualError(t, err, "give one kind of NATS credential: a token, a user and password, an nkey seed or a credentials file")
	_, err = (&natsFlags{url: "nats://127.0.0.1:4222", prefix: "a.b"}).conn()
	assert.EqualError(t, err, `NATS prefix "a.b" must be one subject token: no dot, space, * or >`)
	_, err = (&natsFlags{url: "nats://127.0.0.1:4222", cert: "c.pem"}).conn()
	assert.EqualError(t, err, "a NATS client certificate needs both its certificate file and its key file")
}
