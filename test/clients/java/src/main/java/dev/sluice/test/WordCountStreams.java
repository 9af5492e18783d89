// A Kafka Streams application (org.apache.kafka:kafka-streams, version in pom.xml) for the
// exactly-once test (test/clients/kafka-streams.ts): the classic word count with
// processing.guarantee=exactly_once_v2.
//
//   WordCountStreams <bootstrap> <applicationId> <inputTopic> <outputTopic> <stateDir> [guarantee] [replicationFactor]
//
// Reads lines from <inputTopic>, splits them on spaces, counts per word in a persistent
// (RocksDB) store, and writes every count update to <outputTopic> (key: the word, value: the
// count as a decimal string). Runs until killed; prints one JSON line per state change
// ({"event":"state","state":"RUNNING"}) on stdout. The test SIGKILLs it, and the broker, while
// it runs: with exactly-once the last count per word in <outputTopic> (read_committed) is exact.
// [guarantee] (default exactly_once_v2) is processing.guarantee: at_least_once shows what the
// test catches (records processed again after a kill are counted twice). [replicationFactor]
// (default 1) is replication.factor, the replicas of the internal repartition and changelog
// topics Streams creates: 3 for the run against a 3-broker cluster.
package dev.sluice.test;

import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Produced;

public final class WordCountStreams {
  private WordCountStreams() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 5) throw new IllegalArgumentException("usage: <bootstrap> <applicationId> <inputTopic> <outputTopic> <stateDir>");
    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    props.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args.length > 5 ? args[5] : StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, args.length > 6 ? Integer.parseInt(args[6]) : 1);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    // exactly_once_v2's default commit interval, set for at_least_once too (its default is 30 s).
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // A killed instance's membership ends at its session timeout: keep it short (Kafka's
    // group.min.session.timeout.ms is 6 s), so the restarted instance gets the tasks sooner.
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1500);
    // Reconnect quickly after the broker is killed and restarted.
    props.put(StreamsConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG), 120_000);

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
        .flatMapValues(line -> Arrays.asList(line.split(" ")))
        .groupBy((key, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
        .count()
        .toStream()
        .mapValues(count -> Long.toString(count))
        .to(args[3], Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch done = new CountDownLatch(1);
    streams.setStateListener((newState, oldState) -> {
      System.out.println("{\"event\":\"state\",\"state\":\"" + newState + "\"}");
      System.out.flush();
      if (newState == KafkaStreams.State.ERROR || newState == KafkaStreams.State.NOT_RUNNING) done.countDown();
    });
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("streams: uncaught " + e);
      e.printStackTrace(System.err);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      done.countDown();
    }));
    streams.start();
    done.await();
    System.exit(streams.state() == KafkaStreams.State.ERROR ? 1 : 0);
  }
}
