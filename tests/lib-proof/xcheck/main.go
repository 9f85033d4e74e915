// xcheck: an independent check of nedb's proofs and signed notes with
// Go's golang.org/x/mod/sumdb/note and sumdb/tlog (tests/witness.bats,
// tests/proof-verify.bats).  Built offline in GOPATH mode from Debian's
// golang-golang-x-mod-dev.
//
//	xcheck genkey NAME                 prints a signer key, then its verifier key
//	xcheck sign SKEY                   signs the note text on stdin
//	xcheck open VKEY [COSIG-VKEY...]   note.Open of stdin: the log key (an
//	                                   Ed25519 note key) and witnesses'
//	                                   tlog-cosignature/v1 keys; prints the
//	                                   names that verified, exit 1 if any
//	                                   given key did not
//	xcheck proofs N SEED ORIGIN SKEY   a tree of N leaves (op hashes from
//	                                   SEED): prints on fd 1 the checkpoint
//	                                   signed by SKEY, then one JSON proof per
//	                                   line: inclusion for every leaf,
//	                                   consistency from every smaller size
//	xcheck checkincl / checkcons       reads nedb's JSON proofs on stdin and
//	                                   checks them with tlog.CheckRecord /
//	                                   tlog.CheckTree
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "xcheck: "+format+"\n", a...)
	os.Exit(2)
}

// cosigVerifier checks a tlog-cosignature/v1 line: key id over type 0x04,
// signature = 8-byte big-endian time || Ed25519 over
// "cosignature/v1\ntime <t>\n" || note text.
type cosigVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	m := fmt.Sprintf("cosignature/v1\ntime %d\n", t) + string(msg)
	return ed25519.Verify(v.pub, []byte(m), sig[8:])
}

// newCosigVerifier takes a witness's verifier key as nedb-key prints it
// (type 0x01) and makes the cosignature verifier of the same public key.
func newCosigVerifier(vkey string) *cosigVerifier {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		die("bad witness key %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 {
		die("bad witness key %q", vkey)
	}
	pub := raw[1:]
	h := sha256.New()
	h.Write([]byte(parts[0] + "\n"))
	h.Write([]byte{0x04})
	h.Write(pub)
	return &cosigVerifier{parts[0], binary.BigEndian.Uint32(h.Sum(nil)), pub}
}

func readAll() []byte {
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		die("%v", err)
	}
	return b
}

type hashes []tlog.Hash

func (h hashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = h[x]
	}
	return out, nil
}

func hexs(p []tlog.Hash) []string {
	s := make([]string, len(p))
	for i, h := range p {
		s[i] = hex.EncodeToString(h[:])
	}
	return s
}

func unhex(s string) tlog.Hash {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		die("bad hash %q", s)
	}
	copy(h[:], b)
	return h
}

func main() {
	if len(os.Args) < 2 {
		die("usage: xcheck genkey|sign|open|proofs|checkincl|checkcons")
	}
	switch os.Args[1] {
	case "genkey":
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		if err != nil {
			die("%v", err)
		}
		fmt.Println(skey)
		fmt.Println(vkey)
	case "sign":
		s, err := note.NewSigner(os.Args[2])
		if err != nil {
			die("%v", err)
		}
		msg, err := note.Sign(&note.Note{Text: string(readAll())}, s)
		if err != nil {
			die("%v", err)
		}
		os.Stdout.Write(msg)
	case "open":
		var vs []note.Verifier
		v, err := note.NewVerifier(os.Args[2])
		if err != nil {
			die("%v", err)
		}
		vs = append(vs, v)
		for _, w := range os.Args[3:] {
			vs = append(vs, newCosigVerifier(w))
		}
		n, err := note.Open(readAll(), note.VerifierList(vs...))
		if err != nil {
			fmt.Fprintf(os.Stderr, "xcheck: open: %v\n", err)
			os.Exit(1)
		}
		ok := map[string]bool{}
		for _, s := range n.Sigs {
			fmt.Println(s.Name)
			ok[s.Name] = true
		}
		for _, v := range vs {
			if !ok[v.Name()] {
				fmt.Fprintf(os.Stderr, "xcheck: no valid signature by %s\n", v.Name())
				os.Exit(1)
			}
		}
	case "proofs":
		n, _ := strconv.ParseInt(os.Args[2], 10, 64)
		seed := os.Args[3]
		var stored hashes
		for i := int64(0); i < n; i++ {
			op := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", seed, i)))
			hs, err := tlog.StoredHashesForRecordHash(i, tlog.RecordHash(op[:]), stored)
			if err != nil {
				die("%v", err)
			}
			stored = append(stored, hs...)
		}
		root, err := tlog.TreeHash(n, stored)
		if err != nil {
			die("%v", err)
		}
		s, err := note.NewSigner(os.Args[5])
		if err != nil {
			die("%v", err)
		}
		text := fmt.Sprintf("%s\n%d\n%s\n", os.Args[4], n, base64.StdEncoding.EncodeToString(root[:]))
		cp, err := note.Sign(&note.Note{Text: text}, s)
		if err != nil {
			die("%v", err)
		}
		w := bufio.NewWriter(os.Stdout)
		fmt.Fprintf(w, "%s", cp)
		for i := int64(0); i < n; i++ {
			op := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", seed, i)))
			p, err := tlog.ProveRecord(n, i, stored)
			if err != nil {
				die("%v", err)
			}
			j, _ := json.Marshal(map[string]interface{}{"seq": i, "size": n,
				"leaf": hex.EncodeToString(op[:]), "root": hex.EncodeToString(root[:]),
				"proof": hexs(p)})
			fmt.Fprintf(w, "%s\n", j)
		}
		for m := int64(1); m < n; m++ {
			old, _ := tlog.TreeHash(m, stored)
			p, err := tlog.ProveTree(n, m, stored)
			if err != nil {
				die("%v", err)
			}
			j, _ := json.Marshal(map[string]interface{}{"old": m, "new": n,
				"old_root": hex.EncodeToString(old[:]), "new_root": hex.EncodeToString(root[:]),
				"proof": hexs(p)})
			fmt.Fprintf(w, "%s\n", j)
		}
		w.Flush()
	case "checkincl", "checkcons":
		dec := json.NewDecoder(os.Stdin)
		for count := 0; ; count++ {
			var m map[string]interface{}
			if err := dec.Decode(&m); err == io.EOF {
				fmt.Printf("%d ok\n", count)
				return
			} else if err != nil {
				die("%v", err)
			}
			var path []tlog.Hash
			for _, s := range m["proof"].([]interface{}) {
				path = append(path, unhex(s.(string)))
			}
			var err error
			if os.Args[1] == "checkincl" {
				leaf := unhex(m["leaf"].(string))
				err = tlog.CheckRecord(path, int64(m["size"].(float64)), unhex(m["root"].(string)),
					int64(m["seq"].(float64)), tlog.RecordHash(leaf[:]))
			} else {
				err = tlog.CheckTree(path, int64(m["new"].(float64)), unhex(m["new_root"].(string)),
					int64(m["old"].(float64)), unhex(m["old_root"].(string)))
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "xcheck: proof %d: %v\n", count+1, err)
				os.Exit(1)
			}
		}
	default:
		die("unknown subcommand %q", os.Args[1])
	}
}
