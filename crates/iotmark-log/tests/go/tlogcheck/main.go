// Command tlogcheck checks an iotmark log directory with Go's golang.org/x/mod/sumdb/tlog
// and sumdb/note, an implementation of the same RFC 6962 tree and signed-note format that
// iotmark did not write. It is built and run by crates/iotmark-log/tests/go_interop.rs.
//
//	tlogcheck -dir LOG -vkey VKEY -origin ORIGIN [-proofs PROOFS.json]
//	tlogcheck paths < "L N W" lines   (prints x/mod's tile path for each, in C2SP form)
//
// The log directory is C2SP tlog-tiles: `checkpoint`, hash tiles `tile/<L>/<N>[.p/<W>]` and
// entry bundles `tile/entries/<N>[.p/<W>]`. x/mod names the same hash tiles
// `tile/8/<L>/<N>[.p/<W>]` (the height is in the path) and has no entry bundles (its data
// tiles are go.sum-specific), so the reader below maps x/mod's tile coordinates to C2SP
// paths and the entry bundles are parsed here.
//
// The checks: the checkpoint signature (note.Open); every hash tile equal to x/mod's own tree
// built from the entries (tlog.StoredHashesForRecordHash, tlog.ReadTileData), whose root must
// be the signed root; every leaf hash read through x/mod's TileHashReader equal to
// tlog.RecordHash of its entry; and the log's own proofs equal to tlog.ProveRecord and
// tlog.ProveTree and accepted by tlog.CheckRecord and tlog.CheckTree.
//
// On success it prints one line starting with "ok:"; on the first disagreement it prints one
// line starting with "FAIL:" to stderr and exits 1. Usage errors exit 2.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// C2SP tlog-tiles fixes the tile height at 8 (256 hashes per full tile).
const height = 8
const width = 1 << height

type failure struct{ msg string }

func fail(format string, args ...interface{}) {
	panic(failure{fmt.Sprintf(format, args...)})
}

func main() {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(failure); ok {
				fmt.Fprintln(os.Stderr, "FAIL: "+f.msg)
				os.Exit(1)
			}
			panic(r)
		}
	}()
	if len(os.Args) > 1 && os.Args[1] == "paths" {
		printPaths()
		return
	}
	dir := flag.String("dir", "", "log directory (holds checkpoint and tile/)")
	vkey := flag.String("vkey", "", "verifier key of the log, <name>+<hex id>+<base64 key>")
	origin := flag.String("origin", "", "expected checkpoint origin")
	proofs := flag.String("proofs", "", "JSON file of the log's own proofs to compare with x/mod's")
	flag.Parse()
	if *dir == "" || *vkey == "" || *origin == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck -dir LOG -vkey VKEY -origin ORIGIN [-proofs FILE]")
		os.Exit(2)
	}
	fmt.Println("ok: " + check(*dir, *vkey, *origin, *proofs))
}

// c2spPath turns x/mod's path for a tile of height 8 into the C2SP path: the height element
// goes, and x/mod's data level becomes the entry bundle directory.
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	prefix := fmt.Sprintf("tile/%d/", height)
	if !strings.HasPrefix(p, prefix) {
		fail("x/mod tile path %q does not start with %q", p, prefix)
	}
	rest := p[len(prefix):]
	if strings.HasPrefix(rest, "data/") {
		return "tile/entries/" + rest[len("data/"):]
	}
	return "tile/" + rest
}

func printPaths() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var l, w int
		var n int64
		if _, err := fmt.Sscanf(in.Text(), "%d %d %d", &l, &n, &w); err != nil {
			fail("paths: line %q: want \"L N W\": %v", in.Text(), err)
		}
		fmt.Println(c2spPath(tlog.Tile{H: height, L: l, N: n, W: w}))
	}
}

// dirTiles is x/mod's TileReader over a C2SP directory. Tiles are cached only to avoid
// rereading files; x/mod authenticates every tile it is given against the tree hash.
type dirTiles struct {
	dir   string
	cache map[string][]byte
}

func (d *dirTiles) Height() int { return height }

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := d.file(c2spPath(t))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (d *dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (d *dirTiles) file(rel string) ([]byte, error) {
	if b, ok := d.cache[rel]; ok {
		return b, nil
	}
	b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", rel, err)
	}
	d.cache[rel] = b
	return b, nil
}

// tileAt is the tile of a tree of n leaves at tile level l (-1: entry bundles), index k.
func tileAt(n int64, l int, k int64) tlog.Tile {
	shift := 0
	if l > 0 {
		shift = l * height
	}
	count := n >> uint(shift)
	w := count - k*width
	if w > width {
		w = width
	}
	return tlog.Tile{H: height, L: l, N: k, W: int(w)}
}

// memHashes is a tree's stored hashes in stored-hash-index order, as x/mod builds them.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("stored hash %d is not in the tree built so far (%d hashes)", x, len(m))
		}
		out[i] = m[x]
	}
	return out, nil
}

func hexs(h tlog.Hash) string { return hex.EncodeToString(h[:]) }

type checkpoint struct {
	size int64
	root tlog.Hash
}

// openCheckpoint verifies the signature with x/mod's note package and parses the C2SP
// tlog-checkpoint body: origin, decimal size, base64 root, optional extension lines.
func openCheckpoint(path, vkey, origin string) checkpoint {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		fail("-vkey %q: x/mod note.NewVerifier: %v", vkey, err)
	}
	msg, err := os.ReadFile(path)
	if err != nil {
		fail("checkpoint: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var invalid *note.InvalidSignatureError
		var unverified *note.UnverifiedNoteError
		switch {
		case errors.As(err, &invalid):
			fail("checkpoint: the signature by %s+%08x does not verify (x/mod note.Open: %v)", invalid.Name, invalid.Hash, err)
		case errors.As(err, &unverified):
			var by []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			fail("checkpoint: no signature by %s+%08x, only by [%s] (x/mod note.Open: %v)", v.Name(), v.KeyHash(), strings.Join(by, ", "), err)
		default:
			fail("checkpoint: x/mod note.Open: %v", err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		fail("checkpoint: the signed text has %d lines, need origin, size and root", len(lines))
	}
	if lines[0] != origin {
		fail("checkpoint line 1 (origin): %q, expected %q", lines[0], origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint line 2 (size): %q is not a decimal number without leading zeros", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("checkpoint line 3 (root): %q is not the standard base64 of %d bytes", lines[2], tlog.HashSize)
	}
	for i, ext := range lines[3:] {
		if ext == "" {
			fail("checkpoint line %d (extension): empty", i+4)
		}
	}
	var cp checkpoint
	cp.size = size
	copy(cp.root[:], raw)
	return cp
}

// parseBundle parses a C2SP entry bundle: exactly want entries, each a big-endian uint16
// length and that many bytes.
func parseBundle(path string, b []byte, want int) [][]byte {
	var out [][]byte
	at := 0
	for at < len(b) {
		if len(out) == want {
			fail("%s: %d bytes follow entry %d, the last of %d", path, len(b)-at, want-1, want)
		}
		if len(b)-at < 2 {
			fail("%s: entry %d at byte %d: the 2-byte length is cut off", path, len(out), at)
		}
		n := int(binary.BigEndian.Uint16(b[at:]))
		if len(b)-at-2 < n {
			fail("%s: entry %d at byte %d: length %d but only %d bytes remain", path, len(out), at, n, len(b)-at-2)
		}
		out = append(out, b[at+2:at+2+n])
		at += 2 + n
	}
	if len(out) != want {
		fail("%s: %d entries, expected %d", path, len(out), want)
	}
	return out
}

type proofFile struct {
	Inclusion []struct {
		Size  int64    `json:"size"`
		Index int64    `json:"index"`
		Proof []string `json:"proof"`
	} `json:"inclusion"`
	Consistency []struct {
		OldSize int64    `json:"old_size"`
		OldRoot string   `json:"old_root"`
		Size    int64    `json:"size"`
		Proof   []string `json:"proof"`
	} `json:"consistency"`
}

func parseHashes(what string, hs []string) []tlog.Hash {
	out := make([]tlog.Hash, len(hs))
	for i, s := range hs {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			fail("%s: hash %d %q is not 64 hex digits", what, i, s)
		}
		copy(out[i][:], b)
	}
	return out
}

func sameProof(what, xname string, ours, theirs []tlog.Hash) {
	for i := 0; i < len(ours) && i < len(theirs); i++ {
		if ours[i] != theirs[i] {
			fail("%s: hash %d differs: ours %s, x/mod's %s %s", what, i, hexs(ours[i]), xname, hexs(theirs[i]))
		}
	}
	if len(ours) != len(theirs) {
		fail("%s: ours has %d hashes, x/mod's %s has %d", what, len(ours), xname, len(theirs))
	}
}

func check(dir, vkey, origin, proofsPath string) string {
	cp := openCheckpoint(filepath.Join(dir, "checkpoint"), vkey, origin)
	var proofs proofFile
	if proofsPath != "" {
		b, err := os.ReadFile(proofsPath)
		if err != nil {
			fail("proofs: %v", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&proofs); err != nil {
			fail("proofs %s: %v", proofsPath, err)
		}
	}
	if cp.size == 0 {
		// x/mod's TreeHash(0) is the zero hash by its own convention; RFC 6962 §2.1 defines
		// the empty tree's hash as SHA-256 of nothing, which is what a C2SP checkpoint carries.
		if empty := tlog.Hash(sha256.Sum256(nil)); cp.root != empty {
			fail("checkpoint: size 0 but root %s; RFC 6962 gives the empty tree SHA-256(\"\") = %s", hexs(cp.root), hexs(empty))
		}
		if len(proofs.Inclusion)+len(proofs.Consistency) > 0 {
			fail("proofs: the tree is empty, so there can be no proofs, but %s has %d", proofsPath, len(proofs.Inclusion)+len(proofs.Consistency))
		}
		return fmt.Sprintf("%s size 0 root %s: signature verified by x/mod note.Open; the root is the RFC 6962 empty-tree hash", origin, hexs(cp.root))
	}

	tiles := &dirTiles{dir: dir, cache: map[string][]byte{}}

	// The entries, from the C2SP bundles beside the level-0 tiles.
	var entries [][]byte
	for k := int64(0); k*width < cp.size; k++ {
		bt := tileAt(cp.size, -1, k)
		b, err := tiles.file(c2spPath(bt))
		if err != nil {
			fail("entry bundle: %v", err)
		}
		entries = append(entries, parseBundle(c2spPath(bt), b, bt.W)...)
	}

	// x/mod's own tree over those entries, built record by record as its sumdb server does.
	var built memHashes
	for i, e := range entries {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), tlog.RecordHash(e), built)
		if err != nil {
			fail("x/mod tlog.StoredHashesForRecordHash(%d): %v", i, err)
		}
		built = append(built, hs...)
	}
	builtRoot, err := tlog.TreeHash(cp.size, built)
	if err != nil {
		fail("x/mod tlog.TreeHash(%d) over the entries: %v", cp.size, err)
	}
	var verdict string
	if builtRoot == cp.root {
		verdict = "that tree's root is the signed root, so the tile is wrong"
	} else {
		verdict = fmt.Sprintf("that tree's root %s is not the signed root %s, so the entries are not what the checkpoint signed", hexs(builtRoot), hexs(cp.root))
	}

	// Every hash tile of the tree, byte for byte, against x/mod's tile data for that tree.
	// TileHashReader alone would not do: in x/mod 0.7.0 it checks tiles against their
	// parents only from position len(stx) of its read list on, where stx counts the
	// right-edge subtree hashes, several of which can share one tile; the tiles in between
	// are returned unchecked (a damaged tile/0/001 passes it in a tree of 1000).
	hashTiles := 0
	for l := 0; cp.size>>uint(l*height) > 0; l++ {
		for k := int64(0); k*width < cp.size>>uint(l*height); k++ {
			t := tileAt(cp.size, l, k)
			path := c2spPath(t)
			got, err := tiles.file(path)
			if err != nil {
				fail("hash tile: %v", err)
			}
			if len(got) != t.W*tlog.HashSize {
				fail("%s is %d bytes, expected %d hashes of %d bytes", path, len(got), t.W, tlog.HashSize)
			}
			want, err := tlog.ReadTileData(t, built)
			if err != nil {
				fail("x/mod tlog.ReadTileData(%s): %v", path, err)
			}
			for i := 0; i < t.W; i++ {
				g, w := got[i*tlog.HashSize:(i+1)*tlog.HashSize], want[i*tlog.HashSize:(i+1)*tlog.HashSize]
				if bytes.Equal(g, w) {
					continue
				}
				node := k*width + int64(i)
				where := fmt.Sprintf("node %d at tree level %d", node, l*height)
				from := ""
				if l == 0 {
					where = fmt.Sprintf("leaf %d", node)
					from = fmt.Sprintf(" = tlog.RecordHash(entry %d of %s)", i, c2spPath(tileAt(cp.size, -1, k)))
				}
				fail("%s hash %d (%s) is %s, but x/mod's tree built from the entries has %s%s; %s",
					path, i, where, hex.EncodeToString(g), hex.EncodeToString(w), from, verdict)
			}
			hashTiles++
		}
	}
	if builtRoot != cp.root {
		fail("the tiles agree with x/mod's tree built from the entries, whose root is %s, but the signed checkpoint says %s", hexs(builtRoot), hexs(cp.root))
	}

	// A Go client's view: x/mod's TileHashReader over our tiles, checked against the signed
	// root, gives the tree hash and every leaf hash, and each leaf is RecordHash of its entry.
	hr := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, tiles)
	th, err := tlog.TreeHash(cp.size, hr)
	if err != nil {
		fail("x/mod tlog.TreeHash(%d) through TileHashReader: %v", cp.size, err)
	}
	if th != cp.root {
		fail("x/mod's tlog.TreeHash(%d) is %s, the checkpoint root is %s", cp.size, hexs(th), hexs(cp.root))
	}
	for k := int64(0); k*width < cp.size; k++ {
		t := tileAt(cp.size, 0, k)
		idx := make([]int64, t.W)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, k*width+int64(i))
		}
		leaves, err := hr.ReadHashes(idx)
		if err != nil {
			fail("leaves %d..%d (%s) through x/mod's TileHashReader: %v", k*width, k*width+int64(t.W)-1, c2spPath(t), err)
		}
		for i, leaf := range leaves {
			n := k*width + int64(i)
			if got := tlog.RecordHash(entries[n]); got != leaf {
				fail("entry %d (entry %d of %s): tlog.RecordHash is %s, but TileHashReader's leaf hash from %s is %s",
					n, i, c2spPath(tileAt(cp.size, -1, k)), hexs(got), c2spPath(t), hexs(leaf))
			}
		}
	}

	treeHash := func(n int64) tlog.Hash {
		h, err := tlog.TreeHash(n, hr)
		if err != nil {
			fail("x/mod tlog.TreeHash(%d): %v", n, err)
		}
		return h
	}
	for _, p := range proofs.Inclusion {
		what := fmt.Sprintf("inclusion proof of entry %d in the tree of size %d", p.Index, p.Size)
		if p.Size < 1 || p.Size > cp.size || p.Index < 0 || p.Index >= p.Size {
			fail("%s: out of range for the checkpoint's size %d", what, cp.size)
		}
		ours := parseHashes(what, p.Proof)
		theirs, err := tlog.ProveRecord(p.Size, p.Index, hr)
		if err != nil {
			fail("%s: x/mod tlog.ProveRecord: %v", what, err)
		}
		sameProof(what, "tlog.ProveRecord", ours, theirs)
		leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, p.Index)})
		if err != nil {
			fail("%s: leaf hash: %v", what, err)
		}
		if err := tlog.CheckRecord(ours, p.Size, treeHash(p.Size), p.Index, leaf[0]); err != nil {
			fail("%s: x/mod tlog.CheckRecord rejects ours: %v", what, err)
		}
	}
	for _, p := range proofs.Consistency {
		what := fmt.Sprintf("consistency proof from size %d to %d", p.OldSize, p.Size)
		if p.OldSize < 1 || p.OldSize > p.Size || p.Size > cp.size {
			fail("%s: out of range for the checkpoint's size %d", what, cp.size)
		}
		oldRoot := parseHashes(what+" old_root", []string{p.OldRoot})[0]
		if got := treeHash(p.OldSize); got != oldRoot {
			fail("%s: our root of the tree of size %d is %s, x/mod's tlog.TreeHash over the current tiles gives %s", what, p.OldSize, hexs(oldRoot), hexs(got))
		}
		ours := parseHashes(what, p.Proof)
		theirs, err := tlog.ProveTree(p.Size, p.OldSize, hr)
		if err != nil {
			fail("%s: x/mod tlog.ProveTree: %v", what, err)
		}
		sameProof(what, "tlog.ProveTree", ours, theirs)
		if err := tlog.CheckTree(ours, p.Size, treeHash(p.Size), p.OldSize, oldRoot); err != nil {
			fail("%s: x/mod tlog.CheckTree rejects ours: %v", what, err)
		}
	}
	return fmt.Sprintf("%s size %d root %s: signature verified by x/mod note.Open; all %d hash tiles equal x/mod's tree built from the %d entries, whose root is the signed root; through x/mod's TileHashReader every leaf hash = tlog.RecordHash(entry); %d inclusion and %d consistency proofs equal x/mod's and pass tlog.CheckRecord/CheckTree",
		origin, cp.size, hexs(cp.root), hashTiles, len(entries), len(proofs.Inclusion), len(proofs.Consistency))
}
