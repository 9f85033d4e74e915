// tlogcheck: checks nedb-proof's JSON with Go's golang.org/x/mod/sumdb/tlog,
// code nedb did not write (SPEC §9).  Built offline in GOPATH mode by
// tests/proof.bats.
//
//	tlogcheck          each line of stdin, an inclusion proof
//	                   ({"seq","size","leaf","root","proof"}) or a
//	                   consistency proof ({"old","new","old_root",
//	                   "new_root","proof"}), must verify: prints "ok N"
//	                   and exits 0, or names the first that fails, exit 1
//	tlogcheck -mutate  each proof must verify as given, and no changed
//	                   copy of it may: every hash with one bit flipped,
//	                   a hash left out, added or moved, the seq (or old
//	                   size) changed by one.  Prints "rejected N", or the
//	                   first mutant accepted and exit 1
//	tlogcheck -size    each proof must fail with a tree size one more or
//	                   one less than its own when that changes the
//	                   proof's shape (RFC 6962 does not put the size in
//	                   the root: where the shape is the same, the same
//	                   hashes verify for the other size, and only the
//	                   signed checkpoint binds size and root together).
//	                   Prints "rejected N same-shape M"
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

type proof struct {
	Seq     *int64   `json:"seq"`
	Size    int64    `json:"size"`
	Leaf    string   `json:"leaf"`
	Root    string   `json:"root"`
	Old     *int64   `json:"old"`
	New     int64    `json:"new"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

// One proof in tlog's terms: inclusion (leaf, seq) or consistency (old).
type claim struct {
	incl      bool
	n, t      int64     // seq or old size; tree size
	h, th     tlog.Hash // leaf data hash or old root; root
	path      []tlog.Hash
	leafBytes []byte
}

func hash(s string) tlog.Hash {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		fmt.Fprintf(os.Stderr, "tlogcheck: bad hash %q\n", s)
		os.Exit(4)
	}
	copy(h[:], b)
	return h
}

func parse(line []byte) claim {
	var p proof
	if err := json.Unmarshal(line, &p); err != nil {
		fmt.Fprintf(os.Stderr, "tlogcheck: %v\n", err)
		os.Exit(4)
	}
	var c claim
	for _, s := range p.Proof {
		c.path = append(c.path, hash(s))
	}
	if p.Seq != nil {
		c.incl = true
		c.n, c.t = *p.Seq, p.Size
		c.leafBytes, _ = hex.DecodeString(p.Leaf)
		c.h = tlog.RecordHash(c.leafBytes)
		c.th = hash(p.Root)
	} else if p.Old != nil {
		c.n, c.t = *p.Old, p.New
		c.h, c.th = hash(p.OldRoot), hash(p.NewRoot)
	} else {
		fmt.Fprintf(os.Stderr, "tlogcheck: not a proof: %s\n", line)
		os.Exit(4)
	}
	return c
}

func (c claim) check() error {
	if c.incl {
		return tlog.CheckRecord(tlog.RecordProof(c.path), c.t, c.th, c.n, c.h)
	}
	return tlog.CheckTree(tlog.TreeProof(c.path), c.t, c.th, c.n, c.h)
}

func clone(c claim) claim {
	d := c
	d.path = append([]tlog.Hash(nil), c.path...)
	return d
}

// Every changed copy of c.
func mutants(c claim) []claim {
	var out []claim
	flip := func(h *tlog.Hash, bit int) { h[bit/8] ^= 1 << (bit % 8) }
	for _, bit := range []int{0, 7, 100, 255} {
		for i := range c.path {
			d := clone(c)
			flip(&d.path[i], bit)
			out = append(out, d)
		}
		d := clone(c)
		flip(&d.h, bit)
		out = append(out, d)
		d = clone(c)
		flip(&d.th, bit)
		out = append(out, d)
	}
	if len(c.path) > 0 {
		d := clone(c)
		d.path = d.path[:len(d.path)-1]
		out = append(out, d)
		d = clone(c)
		d.path = d.path[1:]
		out = append(out, d)
		if len(c.path) > 1 {
			d = clone(c)
			d.path[0], d.path[1] = d.path[1], d.path[0]
			out = append(out, d)
		}
	}
	d := clone(c)
	d.path = append(d.path, c.th)
	out = append(out, d)
	for _, dn := range []int64{-1, 1} {
		d := clone(c)
		d.n += dn
		out = append(out, d)
	}
	return out
}

// The number of hashes a proof for (n, t) has: its shape.
func shape(incl bool, n, t int64) int {
	if n < 0 || t < 1 || n > t || (incl && n >= t) || (!incl && n < 1) {
		return -1
	}
	if incl {
		l := 0
		for lo, hi := int64(0), t; hi-lo > 1; l++ {
			k := int64(1)
			for k*2 < hi-lo {
				k *= 2
			}
			if n < lo+k {
				hi = lo + k
			} else {
				lo += k
			}
		}
		return l
	}
	var sub func(lo, hi int64, top bool) int
	sub = func(lo, hi int64, top bool) int {
		if n == hi {
			if top {
				return 0
			}
			return 1
		}
		k := int64(1)
		for k*2 < hi-lo {
			k *= 2
		}
		if n <= lo+k {
			return sub(lo, lo+k, top) + 1
		}
		return sub(lo+k, hi, false) + 1
	}
	return sub(0, t, true)
}

func main() {
	mutate := len(os.Args) > 1 && os.Args[1] == "-mutate"
	sizes := len(os.Args) > 1 && os.Args[1] == "-size"
	same := 0
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n, rejected := 0, 0
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		c := parse(sc.Bytes())
		n++
		if err := c.check(); err != nil {
			fmt.Printf("proof %d does not verify: %v: %s\n", n, err, sc.Text())
			os.Exit(1)
		}
		if sizes {
			for _, dt := range []int64{-1, 1} {
				d := clone(c)
				d.t += dt
				if shape(c.incl, d.n, d.t) == len(c.path) {
					same++
					continue
				}
				if d.check() == nil {
					fmt.Printf("size %d accepted for proof %d: %s\n", d.t, n, sc.Text())
					os.Exit(1)
				}
				rejected++
			}
		}
		if !mutate {
			continue
		}
		for i, m := range mutants(c) {
			if m.check() == nil {
				fmt.Printf("mutant %d of proof %d accepted: %s\n", i, n, sc.Text())
				os.Exit(1)
			}
			rejected++
		}
	}
	if mutate {
		fmt.Printf("rejected %d\n", rejected)
	} else if sizes {
		fmt.Printf("rejected %d same-shape %d\n", rejected, same)
	} else {
		fmt.Printf("ok %d\n", n)
	}
}
