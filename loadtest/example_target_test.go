package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// Ask any HTTP service whether its light requests survive a heavy one:
// here a service of net/http with a health check and a report.
func ExampleHTTPTarget() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		sum := 0
		for i := range 5_000_000 {
			sum += i % 7
		}
		fmt.Fprint(w, sum)
	})
	svc := httptest.NewServer(mux) // a service of anyone's, on loopback
	defer svc.Close()

	res, err := loadtest.Run(context.Background(), loadtest.Scenario{
		Target: &loadtest.HTTPTarget{
			Small:  loadtest.HTTPRequest{URL: svc.URL + "/healthz"},
			Long:   loadtest.HTTPRequest{Method: "POST", URL: svc.URL + "/report", Body: `{"year":2026}`},
			Expect: `"status":"ok"|^[0-9]+$`,
		},
		Clients:   2,
		LongAfter: 100 * time.Millisecond,
		Duration:  400 * time.Millisecond,
		Interval:  100 * time.Millisecond,
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Summary
	fmt.Println(strings.Replace(res.Scenario.Long, svc.URL, "$URL", 1)) // the long request, named
	fmt.Println("long request answered:", s.LongAnswered, s.LongAnswer)
	fmt.Println("errors:", s.Errors)
	// Output:
	// POST $URL/report
	// long request answered: true 14999995
	// errors: 0
}
