package primetime_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func ExampleNthPrime() {
	for _, n := range []int{1, 10, 1000} {
		p, err := primetime.NthPrime(context.Background(), n)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("prime number %d is %d\n", n, p)
	}
	// Output:
	// prime number 1 is 2
	// prime number 10 is 29
	// prime number 1000 is 7919
}

// The prime task reads a decimal n and answers the nth prime; it refuses
// what is not a positive integer.
func ExampleTask_prime() {
	answer, err := primetime.Prime.Run(context.Background(), []byte("10"))
	fmt.Println(string(answer), err)

	_, err = primetime.Prime.Run(context.Background(), []byte("ten"))
	fmt.Println(err)
	// Output:
	// 29 <nil>
	// bad request: want a positive integer n, got "ten"
}

// ask sends one request line to addr and returns the answer line.
func ask(addr, request string) (string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "%s\n", request); err != nil {
		return "", err
	}
	answer, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(answer, "\n"), err
}

// Serve the prime task with a strategy on a loopback port and ask it a
// question over the line protocol.
func Example_serve() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &server.Server{Strategy: strategy.LoopWithOffload(strategy.Goroutines(2))}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	fmt.Println(ask(l.Addr().String(), "10"))
	fmt.Println(ask(l.Addr().String(), "zero"))

	fmt.Println(srv.Shutdown(context.Background()))
	fmt.Println(<-served)
	// Output:
	// 29 <nil>
	// ERR bad request: want a positive integer n, got "zero" <nil>
	// <nil>
	// server: Server closed
}

// Plug your own CPU-bound work into any strategy: a Task is a name and a
// function from a request payload to an answer.
func ExampleTaskFunc() {
	vowels := primetime.TaskFunc("vowels", func(ctx context.Context, payload []byte) ([]byte, error) {
		count := 0
		for i, b := range payload {
			if i%4096 == 0 {
				// Stop early if the client has gone away.
				if err := primetime.Checkpoint(ctx); err != nil {
					return nil, err
				}
			}
			if bytes.IndexByte([]byte("aeiou"), b) >= 0 {
				count++
			}
		}
		return fmt.Appendf(nil, "%d vowels", count), nil
	})

	s, err := strategy.Parse("pool:4")
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &server.Server{Strategy: s, Task: vowels}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	fmt.Println(ask(l.Addr().String(), "a deliberately slow server"))

	srv.Shutdown(context.Background())
	<-served
	// Output:
	// 9 vowels <nil>
}

// digitSum is a task of the user's own. Worker processes find tasks by the
// name they were registered under, so it is registered in an init function,
// which runs in every process of the program; and the program (here the
// test binary's TestMain) calls primetime.MaybeWorker first thing.
var digitSum = primetime.TaskFunc("digit-sum", func(ctx context.Context, payload []byte) ([]byte, error) {
	sum := 0
	for _, b := range payload {
		if b < '0' || b > '9' {
			return nil, fmt.Errorf("%w: %q is not a digit", primetime.ErrBadRequest, b)
		}
		sum += int(b - '0')
	}
	return fmt.Appendf(nil, "%d", sum), nil
})

func init() {
	primetime.Register(digitSum)
}

// Run your own registered task in a pool of worker processes, as the
// lecture's ProcessPoolExecutor does.
func ExampleRegister() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &server.Server{Strategy: strategy.ProcessPool(2), Task: digitSum}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	fmt.Println(ask(l.Addr().String(), "2026"))
	fmt.Println(ask(l.Addr().String(), "20x6"))

	srv.Shutdown(context.Background())
	<-served
	// Output:
	// 10 <nil>
	// ERR bad request: 'x' is not a digit <nil>
}

// A task that, as a C extension between Py_BEGIN_ALLOW_THREADS and
// Py_END_ALLOW_THREADS, runs without Python mode's interpreter lock: a
// server in Python mode lets its other threads run beside it.
func ExampleReleasingGIL() {
	hash := primetime.ReleasingGIL(primetime.TaskFunc("hash", func(ctx context.Context, payload []byte) ([]byte, error) {
		sum := sha256.Sum256(payload)
		return []byte(hex.EncodeToString(sum[:4])), nil
	}))
	_, releases := hash.(primetime.GILReleaser)
	fmt.Println(hash.Name(), "releases the lock:", releases)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &server.Server{Task: hash, GIL: 5 * time.Millisecond} // Python mode
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Println(ask(l.Addr().String(), "abc"))
	srv.Shutdown(context.Background())
	<-served
	// Output:
	// hash releases the lock: true
	// ba7816bf <nil>
}
