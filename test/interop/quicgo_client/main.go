// quicgo_client: an HTTP/3 client built on quic-go's http3 package, the
// independent peer of the interop suite (test/interop/interop.py).
//
//	quicgo_client [-cacert FILE | -cert-sha256 HEX | -insecure] [-outdir DIR] [-post FILE] URL...
//
// All URLs are fetched concurrently through one http3.RoundTripper (one QUIC
// connection per origin). Each body is saved as DIR/<basename of the URL
// path>; for every response one line goes to stdout:
//
//	sha256 <hex> <bytes> <status> <proto> <url>
//
// -cert-sha256 pins the server's leaf certificate (SHA-256 of its DER) instead
// of verifying a chain: for servers with an in-memory self-signed certificate.
// With -post FILE each URL gets a POST of that file instead of a GET. Exit
// status 0 only if every request completed over HTTP/3 with status < 400.
//
// Build (offline, GOPATH mode, Debian's golang-github-lucas-clemente-quic-go-dev):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o quicgo_client main.go
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

type result struct {
	line string
	err  error
}

func fetch(client *http.Client, u, outdir string, post []byte) result {
	var resp *http.Response
	var err error
	if post != nil {
		resp, err = client.Post(u, "application/octet-stream", bytes.NewReader(post))
	} else {
		resp, err = client.Get(u)
	}
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	parsed, err := url.Parse(u)
	if err != nil {
		return result{err: err}
	}
	name := path.Base(parsed.Path)
	if name == "/" || name == "." || name == "" {
		name = "index"
	}
	var sink io.Writer = io.Discard
	if outdir != "" {
		f, err := os.Create(filepath.Join(outdir, name))
		if err != nil {
			return result{err: err}
		}
		defer f.Close()
		sink = f
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(sink, sum), resp.Body)
	if err != nil {
		return result{err: fmt.Errorf("%s: reading body after %d bytes: %w", u, n, err)}
	}
	line := fmt.Sprintf("sha256 %s %d %d %s %s", hex.EncodeToString(sum.Sum(nil)), n, resp.StatusCode, resp.Proto, u)
	if resp.StatusCode >= 400 {
		return result{line: line, err: fmt.Errorf("%s: status %d", u, resp.StatusCode)}
	}
	if resp.ProtoMajor != 3 {
		return result{line: line, err: fmt.Errorf("%s: protocol %s, not HTTP/3", u, resp.Proto)}
	}
	return result{line: line}
}

func main() {
	cacert := flag.String("cacert", "", "trust this CA certificate (PEM)")
	pin := flag.String("cert-sha256", "", "accept only a leaf certificate with this SHA-256 (hex)")
	insecure := flag.Bool("insecure", false, "do not verify the server certificate")
	outdir := flag.String("outdir", "", "save bodies in this directory")
	postFile := flag.String("post", "", "POST this file to every URL")
	timeout := flag.Duration("timeout", 60*time.Second, "overall timeout")
	flag.Parse()
	log.SetPrefix("quicgo-client: ")
	if flag.NArg() == 0 {
		log.Fatal("no URL given")
	}
	tlsConf := &tls.Config{InsecureSkipVerify: *insecure}
	if *cacert != "" {
		pemBytes, err := os.ReadFile(*cacert)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			log.Fatalf("no certificate in %s", *cacert)
		}
		tlsConf.RootCAs = pool
	}
	if *pin != "" {
		want := strings.ToLower(*pin)
		tlsConf.InsecureSkipVerify = true
		tlsConf.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no server certificate")
			}
			got := sha256.Sum256(raw[0])
			if hex.EncodeToString(got[:]) != want {
				return fmt.Errorf("server certificate sha256 %x, want %s", got, want)
			}
			return nil
		}
	}
	if f := os.Getenv("SSLKEYLOGFILE"); f != "" {
		w, err := os.OpenFile(f, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			log.Fatal(err)
		}
		tlsConf.KeyLogWriter = w
	}
	var post []byte
	if *postFile != "" {
		var err error
		if post, err = os.ReadFile(*postFile); err != nil {
			log.Fatal(err)
		}
	}
	rt := &http3.RoundTripper{
		TLSClientConfig: tlsConf,
		QuicConfig:      &quic.Config{MaxIdleTimeout: 30 * time.Second, HandshakeIdleTimeout: 10 * time.Second},
	}
	defer rt.Close()
	client := &http.Client{Transport: rt, Timeout: *timeout}

	results := make([]result, flag.NArg())
	var wg sync.WaitGroup
	for i, u := range flag.Args() {
		wg.Add(1)
		go func(i int, u string) {
			defer wg.Done()
			results[i] = fetch(client, u, *outdir, post)
		}(i, u)
	}
	wg.Wait()
	failed := false
	for _, r := range results {
		if r.line != "" {
			fmt.Println(r.line)
		}
		if r.err != nil {
			log.Print(r.err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
