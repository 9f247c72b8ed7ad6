// goload: an HTTP/2 load generator built on Go's HTTP/2 client
// (golang.org/x/net/http2), the client stack of kubectl and client-go.
//
// h2load (nghttp2) always sends the Authorization header "never indexed", so a
// server Huffman-decodes an 800-byte bearer token on every request; Go's HPACK
// encoder indexes it, so after the first request a connection sends it as one
// byte. To measure what a Kubernetes client costs a server, the load must be
// encoded as that client encodes it: hence this program.
//
// Each of -c workers owns one connection (its own Transport) and has one request
// in flight, as h2load -c C -m 1 does. Prints one JSON object: counts by status,
// throughput and latency percentiles (2xx only) in milliseconds.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

type options struct {
	url, method, body, token, cert, key, ca string
	n, c, conns                             int
}

type sample struct {
	code int
	lat  time.Duration
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.url, "url", "", "request URL (https:// for TLS, http:// for prior-knowledge h2c)")
	flag.StringVar(&o.method, "method", "GET", "GET or POST")
	flag.StringVar(&o.body, "body", "", "file whose content is POSTed (application/json)")
	flag.StringVar(&o.token, "token", "", "bearer token")
	flag.StringVar(&o.cert, "cert", "", "client certificate (PEM)")
	flag.StringVar(&o.key, "key", "", "client key (PEM)")
	flag.StringVar(&o.ca, "ca", "", "CA bundle the server certificate must chain to")
	flag.IntVar(&o.n, "n", 1000, "requests in all")
	flag.IntVar(&o.c, "c", 1, "concurrent clients (one request in flight each)")
	flag.IntVar(&o.conns, "conns", 0, "HTTP/2 connections the clients share (0: one each, as separate kubectl processes; 1: one for all, as the workers of one client-go program)")
	flag.Parse()
	if o.conns == 0 || o.conns > o.c {
		o.conns = o.c
	}
	if o.url == "" || o.n < 1 || o.c < 1 || o.conns < 0 {
		fmt.Fprintln(os.Stderr, "goload: -url is required; -n and -c must be positive")
		os.Exit(2)
	}
	return o
}

func tlsConfig(o options) (*tls.Config, error) {
	cfg := &tls.Config{NextProtos: []string{"h2"}}
	if o.ca != "" {
		pem, err := os.ReadFile(o.ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", o.ca)
		}
	}
	if o.cert != "" {
		kp, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return cfg, nil
}

func newTransport(o options, cfg *tls.Config) *http2.Transport {
	if cfg != nil {
		return &http2.Transport{TLSClientConfig: cfg}
	}
	return &http2.Transport{
		AllowHTTP: true,
		DialTLS: func(network, addr string, _ *tls.Config) (net.Conn, error) {
			return net.Dial(network, addr)
		},
	}
}

func once(cl *http.Client, o options, body []byte) int {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(o.method, o.url, rd)
	if err != nil {
		return -1
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func worker(cl *http.Client, o options, body []byte, next *int64, out []sample, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		i := atomic.AddInt64(next, 1) - 1
		if i >= int64(len(out)) {
			return
		}
		t0 := time.Now()
		code := once(cl, o, body)
		out[i] = sample{code, time.Since(t0)}
	}
}

func percentile(lat []float64, q float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	k := int(q / 100 * float64(len(lat)-1))
	return lat[k]
}

func report(out []sample, elapsed time.Duration) map[string]interface{} {
	codes := map[string]int{}
	var lat []float64
	for _, s := range out {
		codes[fmt.Sprint(s.code)]++
		if s.code >= 200 && s.code < 300 {
			lat = append(lat, float64(s.lat.Microseconds())/1000)
		}
	}
	sort.Float64s(lat)
	sec := elapsed.Seconds()
	r := map[string]interface{}{
		"n": len(out), "ok": len(lat), "failed": len(out) - len(lat), "codes": codes,
		"elapsed_s": sec, "rps": float64(len(out)) / sec, "rps_ok": float64(len(lat)) / sec,
		"p50": percentile(lat, 50), "p99": percentile(lat, 99), "max": percentile(lat, 100),
	}
	return r
}

func main() {
	o := parseFlags()
	var body []byte
	if o.body != "" {
		b, err := os.ReadFile(o.body)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goload:", err)
			os.Exit(1)
		}
		body = b
	}
	var cfg *tls.Config
	if len(o.url) > 8 && o.url[:8] == "https://" {
		c, err := tlsConfig(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goload:", err)
			os.Exit(1)
		}
		cfg = c
	}
	out := make([]sample, o.n)
	var next int64
	var wg sync.WaitGroup
	clients := make([]*http.Client, o.conns)
	for i := range clients {
		// One Transport per connection: an http2.Transport multiplexes every request
		// to one host over one connection.
		tr := newTransport(o, cfg)
		defer tr.CloseIdleConnections()
		clients[i] = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	t0 := time.Now()
	for w := 0; w < o.c; w++ {
		wg.Add(1)
		go worker(clients[w%o.conns], o, body, &next, out, &wg)
	}
	wg.Wait()
	_ = json.NewEncoder(os.Stdout).Encode(report(out, time.Since(t0)))
}
