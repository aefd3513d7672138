package media_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"hoctap/media"
)

func BenchmarkSniff(b *testing.B) {
	head := append([]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), make([]byte, 500)...)
	for b.Loop() {
		media.Sniff(head, "lecture.webm")
	}
}

// BenchmarkDiskRangeGet measures what a seeking video player costs the disk store: a signed
// GET of a 1 MiB range of a 32 MiB object through Handler.
func BenchmarkDiskRangeGet(b *testing.B) {
	s, _ := newDisk(b, media.DiskConfig{})
	data := bytes.Repeat([]byte("0123456789abcdef"), 2<<20)
	if _, err := s.Put(context.Background(), "bench/video.mp4", bytes.NewReader(data), int64(len(data)), "video/mp4"); err != nil {
		b.Fatal(err)
	}
	get, err := s.PresignGet(context.Background(), "bench/video.mp4", media.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", get.URL, nil)
	req.Header.Set("Range", "bytes=8388608-9437183")
	b.SetBytes(1 << 20)
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || n != 1<<20 {
			b.Fatalf("%d, %d bytes", resp.StatusCode, n)
		}
	}
}
