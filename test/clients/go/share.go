package main

// share-consume -brokers B -topic T -group G -stop-file F [-timeout D]
//     A KIP-932 share consumer (kgo.ShareGroup) that polls until F exists: a record whose value
//     starts with "poison" is released (reported {"event":"poison",...} at each delivery), every
//     other one accepted; after each poll the acknowledgements are flushed and only then the
//     accepted records reported ({"event":"record","partition":P,"offset":O,"value":V,
//     "deliveryCount":C}); a failed flush is reported {"event":"commit-failed"}.

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func shareConsume(ctx context.Context, brokers, topic, group, stopFile string) {
	client, err := kgo.NewClient(
		kgo.SeedBrokers(brokers),
		kgo.ConsumeTopics(topic),
		kgo.ShareGroup(group),
		// Small fetches, so that consumers sharing a partition each get part of a burst.
		kgo.ShareMaxRecords(10),
		kgo.ClientID("sluice-franz-go-share"),
	)
	if err != nil {
		fail(err)
	}
	defer client.Close()
	emit(map[string]any{"event": "subscribed"})
	for {
		if _, err := os.Stat(stopFile); err == nil {
			return
		}
		if ctx.Err() != nil {
			fail(ctx.Err())
		}
		pollCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fetches := client.PollFetches(pollCtx)
		cancel()
		var accepted []map[string]any
		fetches.EachRecord(func(r *kgo.Record) {
			event := map[string]any{"partition": r.Partition, "offset": r.Offset, "value": string(r.Value), "deliveryCount": r.DeliveryCount()}
			if strings.HasPrefix(string(r.Value), "poison") {
				r.Ack(kgo.AckRelease)
				event["event"] = "poison"
				emit(event)
				return
			}
			r.Ack(kgo.AckAccept)
			event["event"] = "record"
			accepted = append(accepted, event)
		})
		if len(accepted) == 0 && fetches.NumRecords() == 0 {
			continue
		}
		if err := client.FlushAcks(ctx); err != nil {
			emit(map[string]any{"event": "commit-failed", "error": err.Error()})
			continue
		}
		for _, e := range accepted {
			emit(e)
		}
	}
}
