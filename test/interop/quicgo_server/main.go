// quicgo_server: an HTTP/3 file server built on quic-go's http3 package, the
// independent peer of the interop suite (test/interop/interop.py).
//
// It creates a throw-away CA and an ECDSA P-256 leaf certificate (13 days;
// localhost, 127.0.0.1, ::1) signed by it, writes the CA as PEM to -cacert-out
// (for a client's --cacert), serves GET/HEAD of files under -root, answers
// POST with "received <N> bytes sha256 <hex>\n" (the same line as h3serve),
// and prints one start line on stdout:
//
//	quicgo-server listening on 127.0.0.1:PORT cert-sha256 <hex> spki-sha256-b64 <b64>
//
// Build (offline, GOPATH mode, Debian's golang-github-lucas-clemente-quic-go-dev):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o quicgo_server main.go
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lucas-clemente/quic-go"
	"github.com/lucas-clemente/quic-go/http3"
)

func makeCerts() (tls.Certificate, []byte, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wtcpp interop test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(13 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(13 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, caPEM, nil
}

type handler struct {
	files http.Handler
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int64(0)
	status := http.StatusOK
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.files.ServeHTTP(w, r)
	case http.MethodPost:
		sum := sha256.New()
		var err error
		n, err = io.Copy(sum, r.Body)
		if err != nil {
			status = http.StatusBadRequest
			http.Error(w, err.Error(), status)
			break
		}
		body := fmt.Sprintf("received %d bytes sha256 %s\n", n, hex.EncodeToString(sum.Sum(nil)))
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	default:
		status = http.StatusMethodNotAllowed
		http.Error(w, "method not allowed", status)
	}
	log.Printf("%s %q %s (request body %d bytes)", r.RemoteAddr, r.Method+" "+r.URL.Path, r.Proto, n)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address to listen on")
	root := flag.String("root", "", "directory to serve")
	caOut := flag.String("cacert-out", "", "write the CA certificate (PEM) here")
	flag.Parse()
	if *root == "" {
		log.Fatal("quicgo-server: -root is required")
	}
	log.SetPrefix("quicgo-server: ")
	cert, caPEM, err := makeCerts()
	if err != nil {
		log.Fatal(err)
	}
	if *caOut != "" {
		if err := os.WriteFile(*caOut, caPEM, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	if f := os.Getenv("SSLKEYLOGFILE"); f != "" {
		w, err := os.OpenFile(f, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			log.Fatal(err)
		}
		tlsConf.KeyLogWriter = w
	}
	conn, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http3.Server{
		TLSConfig:  tlsConf,
		QuicConfig: &quic.Config{MaxIdleTimeout: 30 * time.Second},
		Handler:    handler{files: http.FileServer(http.Dir(*root))},
	}
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	certSum := sha256.Sum256(leaf.Raw)
	spkiSum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	fmt.Printf("quicgo-server listening on %s cert-sha256 %s spki-sha256-b64 %s\n",
		conn.LocalAddr(), hex.EncodeToString(certSum[:]), base64.StdEncoding.EncodeToString(spkiSum[:]))
	os.Stdout.Sync()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		srv.Close()
		conn.Close()
		os.Exit(0)
	}()
	if err := srv.Serve(conn); err != nil {
		log.Fatal(err)
	}
}
