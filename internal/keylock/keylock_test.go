package keylock

import (
	"sync"
	"testing"
)

func TestLockSerialisesOneKeyAndForgetsIt(t *testing.T) {
	m := New()
	keys := []string{"a", "b", "c"}
	var counts [3]int // counts[k] is touched only under keys[k]'s lock
	var wg sync.WaitGroup
	for i := range 64 {
		k := i % 3
		wg.Go(func() {
			for range 100 {
				unlock := m.Lock(keys[k])
				counts[k]++ // a data race here, under -race, would mean two holders at once
				unlock()
			}
		})
	}
	wg.Wait()
	if counts[0]+counts[1]+counts[2] != 6400 {
		t.Fatalf("counts %v", counts)
	}
	if n := m.Len(); n != 0 {
		t.Fatalf("%d keys remain after every lock was released", n)
	}
}

func TestDifferentKeysDoNotBlockEachOther(t *testing.T) {
	m := New()
	unlockA := m.Lock("a")
	done := make(chan struct{})
	go func() {
		m.Lock("b")()
		close(done)
	}()
	<-done // would hang if "b" waited for "a"
	unlockA()
}
