// A franz-go (github.com/twmb/franz-go/pkg/kgo) client for Sluice's real-client tests and golden
// captures. It runs with kgo's defaults (idempotent producer, cooperative-sticky group balancer)
// except where a flag says otherwise, and prints one JSON object per line on stdout:
//
//	create-topic -brokers B -topic T -partitions P
//	    {"event":"created","topic":T,"partitions":P} (CreateTopics through kmsg; kgo does not create)
//	produce -brokers B -topic T -count N [-compression none|gzip|snappy|lz4|zstd] (default: kgo's)
//	        [-value-suffix S]: records "key-<i>" -> "value-<i><S>"
//	    {"event":"produced","partition":P,"offset":O,"key":K} per record, then {"event":"done","count":N}
//	consume -brokers B -topic T -group G -count N [-timeout 60s]
//	    {"event":"record","partition":P,"offset":O,"key":K,"value":V} per record, then
//	    {"event":"committed"} and {"event":"done","count":N}
//
//	share-consume -brokers B -topic T -group G -stop-file F (share.go)
//	    a KIP-932 share consumer; see share.go
//
// produce and consume also take [-sasl-mechanism SCRAM-SHA-256|SCRAM-SHA-512 -sasl-user U
// -sasl-password P]: SASL/SCRAM through franz-go's pkg/sasl/scram (the broker's listener must be
// SASL_PLAINTEXT).
//
// Any failure prints a message on stderr and exits 1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: %s produce|consume [flags]", os.Args[0]))
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	brokers := flags.String("brokers", "", "bootstrap host:port")
	topic := flags.String("topic", "", "topic")
	count := flags.Int("count", 0, "records to produce, or to consume before committing")
	compression := flags.String("compression", "", "none|gzip|snappy|lz4|zstd; empty keeps kgo's default")
	group := flags.String("group", "", "consumer group")
	partitions := flags.Int("partitions", 1, "partitions of a created topic")
	valueSuffix := flags.String("value-suffix", "", "appended to every produced value")
	timeout := flags.Duration("timeout", 60*time.Second, "give up after this long")
	saslMechanism := flags.String("sasl-mechanism", "", "SCRAM-SHA-256 or SCRAM-SHA-512; empty: no SASL")
	saslUser := flags.String("sasl-user", "", "SASL user")
	saslPassword := flags.String("sasl-password", "", "SASL password")
	stopFile := flags.String("stop-file", "", "share-consume: stop once this file exists")
	if err := flags.Parse(os.Args[2:]); err != nil {
		fail(err)
	}
	if *brokers == "" || *topic == "" {
		fail(fmt.Errorf("-brokers and -topic are required"))
	}
	if os.Args[1] != "create-topic" && os.Args[1] != "share-consume" && *count <= 0 {
		fail(fmt.Errorf("%s needs a positive -count", os.Args[1]))
	}
	auth := saslOpts(*saslMechanism, *saslUser, *saslPassword)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	switch os.Args[1] {
	case "create-topic":
		createTopic(ctx, *brokers, *topic, int32(*partitions))
	case "produce":
		opts := append([]kgo.Opt{}, auth...)
		if *compression != "" {
			codec, err := codecFor(*compression)
			if err != nil {
				fail(err)
			}
			opts = append(opts, kgo.ProducerBatchCompression(codec))
		}
		produce(ctx, *brokers, *topic, *count, *valueSuffix, opts)
	case "consume":
		if *group == "" {
			fail(fmt.Errorf("consume needs -group"))
		}
		consume(ctx, *brokers, *topic, *group, *count, auth)
	case "share-consume":
		if *group == "" || *stopFile == "" {
			fail(fmt.Errorf("share-consume needs -group and -stop-file"))
		}
		shareConsume(ctx, *brokers, *topic, *group, *stopFile)
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}

func saslOpts(mechanism, user, password string) []kgo.Opt {
	auth := scram.Auth{User: user, Pass: password}
	switch mechanism {
	case "":
		return nil
	case "SCRAM-SHA-256":
		return []kgo.Opt{kgo.SASL(auth.AsSha256Mechanism())}
	case "SCRAM-SHA-512":
		return []kgo.Opt{kgo.SASL(auth.AsSha512Mechanism())}
	}
	fail(fmt.Errorf("unknown SASL mechanism %q", mechanism))
	return nil
}

func codecFor(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("unknown compression %q", name)
}

func createTopic(ctx context.Context, brokers, topic string, partitions int32) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ClientID("sluice-franz-go"))
	if err != nil {
		fail(err)
	}
	defer client.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30_000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic = topic
	t.NumPartitions = partitions
	t.ReplicationFactor = 1
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, client)
	if err != nil {
		fail(fmt.Errorf("create topic: %w", err))
	}
	for _, r := range resp.Topics {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			fail(fmt.Errorf("create topic %s: %w", r.Topic, err))
		}
	}
	emit(map[string]any{"event": "created", "topic": topic, "partitions": partitions})
}

func produce(ctx context.Context, brokers, topic string, count int, valueSuffix string, extra []kgo.Opt) {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(brokers),
		kgo.DefaultProduceTopic(topic),
		kgo.ClientID("sluice-franz-go"),
	}, extra...)
	client, err := kgo.NewClient(opts...)
	if err != nil {
		fail(err)
	}
	defer client.Close()
	records := make([]*kgo.Record, count)
	for i := range records {
		records[i] = &kgo.Record{Key: []byte("key-" + strconv.Itoa(i)), Value: []byte("value-" + strconv.Itoa(i) + valueSuffix)}
	}
	results := client.ProduceSync(ctx, records...)
	if err := results.FirstErr(); err != nil {
		fail(fmt.Errorf("produce: %w", err))
	}
	for _, r := range results {
		emit(map[string]any{"event": "produced", "partition": r.Record.Partition, "offset": r.Record.Offset, "key": string(r.Record.Key)})
	}
	emit(map[string]any{"event": "done", "count": len(results)})
}

func consume(ctx context.Context, brokers, topic, group string, count int, extra []kgo.Opt) {
	client, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(brokers),
		kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(group),
		kgo.DisableAutoCommit(),
		kgo.ClientID("sluice-franz-go"),
	}, extra...)...)
	if err != nil {
		fail(err)
	}
	defer client.Close()
	seen := 0
	for seen < count {
		fetches := client.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			fail(fmt.Errorf("consumed %d of %d records: %w", seen, count, err))
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			fail(fmt.Errorf("fetch %s[%d]: %w", errs[0].Topic, errs[0].Partition, errs[0].Err))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			seen++
			emit(map[string]any{"event": "record", "partition": r.Partition, "offset": r.Offset, "key": string(r.Key), "value": string(r.Value)})
		})
	}
	if err := client.CommitUncommittedOffsets(ctx); err != nil {
		fail(fmt.Errorf("commit: %w", err))
	}
	emit(map[string]any{"event": "committed"})
	// Leave the group now so the next member does not wait out this one's session.
	client.LeaveGroup()
	emit(map[string]any{"event": "done", "count": seen})
}

func emit(v map[string]any) {
	line, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(line))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "franz-go client:", err)
	os.Exit(1)
}
