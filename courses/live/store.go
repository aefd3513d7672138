package live

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/internal/database"
)

// voteDoc is one learner's current choice in a poll; a new vote replaces it.
type voteDoc struct {
	ID        string    `bson:"_id"` // poll id + "/" + user id
	SessionID string    `bson:"session_id"`
	PollID    string    `bson:"poll_id"`
	UserID    string    `bson:"user_id"`
	Choice    int       `bson:"choice"`
	At        time.Time `bson:"at"`
}

// voteBatch bounds the upserts of one bulkWrite: FerretDB v1.24 keeps a database
// connection open per update of an update command that finds its document until the
// command ends, and stalls for good at its pool of 100; a poll's changed votes arrive by
// the hundred, and a failed batch is handed in again whole.
const voteBatch = 25

// storeResult says what became of a batch of events handed to storeBatch.
type storeResult struct {
	stored  []Event        // the batch's events now stored, with their sequence numbers, in order
	foreign []Event        // events other processes stored meanwhile, found while retrying
	dups    map[int]Event  // batch index → the already stored event with the same key
	failed  map[int]error  // batch index → why it could not be stored
	owner   map[string]int // stored event id → batch index
	next    int64          // the next free sequence number as far as is known
	// votesErr is set when the votes could not be written.
	votesErr error
}

// maxStoreAttempts bounds the retries when other processes keep taking the same sequence
// numbers; each retry makes progress for someone, so this is only reached under a storm.
const maxStoreAttempts = 50

// storeBatch stores events (Seq unset) as the session's next sequence numbers, starting at
// next, with one insertMany per attempt. The unique index (session_id, seq) decides who
// owns a number: on a duplicate key, the events stored since next are read back (they are
// either this batch's own, inserted before the ordered insert stopped, or another
// process's), events whose key is already stored are settled as duplicates, and the rest
// are retried after the highest stored sequence. votes are upserted first, in bulkWrites
// of voteBatch.
func (s *Service) storeBatch(ctx context.Context, sessionID string, next int64, batch []Event, votes []voteDoc) storeResult {
	res := storeResult{dups: map[int]Event{}, failed: map[int]error{}, owner: map[string]int{}, next: next}
	for start := 0; start < len(votes); start += voteBatch {
		chunk := votes[start:min(start+voteBatch, len(votes))]
		models := make([]mongo.WriteModel, 0, len(chunk))
		for _, v := range chunk {
			models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: v.ID}}).SetReplacement(v).SetUpsert(true))
		}
		if _, err := s.votes.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			// The room keeps the votes in memory and hands them in again with its next batch
			// (upserts: those already written are written again, harmlessly).
			res.votesErr = fmt.Errorf("live: store votes: %w", err)
			break
		}
	}
	// A poll's final result counts the stored votes (the batch's own were just written
	// above), which include those other processes took; the room's tally is used when the
	// votes could not be read or written.
	if res.votesErr == nil {
		for i := range batch {
			if batch[i].Type != TypePollClosed {
				continue
			}
			stored, err := s.loadVotes(ctx, []string{batch[i].PollID})
			if err != nil {
				continue
			}
			counts := make([]int, len(batch[i].Counts))
			total := 0
			for _, v := range stored {
				if v.Choice >= 0 && v.Choice < len(counts) {
					counts[v.Choice]++
					total++
				}
			}
			batch[i].Counts, batch[i].Votes = counts, total
		}
	}
	remaining := make([]int, len(batch))
	for i := range batch {
		remaining[i] = i
	}
	for attempt := 0; len(remaining) > 0; attempt++ {
		if attempt == maxStoreAttempts {
			for _, i := range remaining {
				res.failed[i] = fmt.Errorf("live: could not claim a sequence number after %d attempts", attempt)
			}
			break
		}
		docs := make([]any, len(remaining))
		for j, i := range remaining {
			batch[i].Seq = res.next + int64(j)
			res.owner[batch[i].ID] = i
			docs[j] = batch[i]
		}
		_, err := s.events.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
		if err == nil {
			for _, i := range remaining {
				res.stored = append(res.stored, batch[i])
			}
			res.next += int64(len(remaining))
			break
		}
		// Read back what is stored from next on: a prefix of this batch may be in, and
		// another process may hold the numbers this batch wanted.
		evs, rerr := s.loadEvents(ctx, sessionID, res.next-1, 0, 0)
		if rerr != nil {
			for _, i := range remaining {
				res.failed[i] = fmt.Errorf("live: store events: %w", err)
			}
			break
		}
		done := map[int]bool{}
		for _, ev := range evs {
			if i, ok := res.owner[ev.ID]; ok {
				res.stored = append(res.stored, batch[i])
				done[i] = true
			} else {
				res.foreign = append(res.foreign, ev)
			}
			res.next = max(res.next, ev.Seq+1)
		}
		var left []int
		for _, i := range remaining {
			if !done[i] {
				left = append(left, i)
			}
		}
		remaining = left
		if !database.IsDuplicateKey(err) {
			for _, i := range remaining {
				res.failed[i] = fmt.Errorf("live: store events: %w", err)
			}
			break
		}
		// Settle the events whose key is already stored: they are resends or repeats.
		var keys []string
		for _, i := range remaining {
			if batch[i].Key != "" {
				keys = append(keys, batch[i].Key)
			}
		}
		if len(keys) > 0 {
			found, ferr := s.eventsByKey(ctx, keys)
			if ferr != nil {
				for _, i := range remaining {
					res.failed[i] = ferr
				}
				break
			}
			left = left[:0]
			for _, i := range remaining {
				if orig, ok := found[batch[i].Key]; ok && batch[i].Key != "" {
					res.dups[i] = orig
				} else {
					left = append(left, i)
				}
			}
			remaining = left
		}
	}
	return res
}

// eventsByKey returns the stored events with the given keys.
func (s *Service) eventsByKey(ctx context.Context, keys []string) (map[string]Event, error) {
	cur, err := s.events.Find(ctx, bson.D{{Key: "key", Value: bson.D{{Key: "$in", Value: keys}}}})
	if err != nil {
		return nil, fmt.Errorf("live: read events by key: %w", err)
	}
	var evs []Event
	if err := cur.All(ctx, &evs); err != nil {
		return nil, fmt.Errorf("live: read events by key: %w", err)
	}
	out := make(map[string]Event, len(evs))
	for _, ev := range evs {
		ev.At = ev.At.UTC()
		out[ev.Key] = ev
	}
	return out, nil
}

// loadVotes returns the stored votes of the given polls.
func (s *Service) loadVotes(ctx context.Context, pollIDs []string) ([]voteDoc, error) {
	if len(pollIDs) == 0 {
		return nil, nil
	}
	cur, err := s.votes.Find(ctx, bson.D{{Key: "poll_id", Value: bson.D{{Key: "$in", Value: pollIDs}}}})
	if err != nil {
		return nil, fmt.Errorf("live: read votes: %w", err)
	}
	var out []voteDoc
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("live: read votes: %w", err)
	}
	return out, nil
}
