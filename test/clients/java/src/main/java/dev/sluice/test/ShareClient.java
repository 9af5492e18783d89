// KIP-932 share consumers (org.apache.kafka:kafka-clients 4.x KafkaShareConsumer) for Sluice's
// share-group tests. Each prints one JSON object per line on stdout; exits 0, or prints the
// failure on stderr and exits 1.
//
//   member <bootstrap> <topic> <group> <stopFile>
//       A KafkaShareConsumer in <group> (share.acknowledgement.mode=explicit) that polls until
//       <stopFile> exists, then closes. A record whose value starts with "poison" is RELEASEd
//       (so it comes back until the delivery-count limit archives it); every other record is
//       ACCEPTed. After each poll it commits the acknowledgements synchronously and only then
//       reports each accepted record ({"event":"record",...}) — so a reported record is one the
//       broker acknowledged; a failed commit reports {"event":"commit-failed"} instead.
//       Every delivery of a poison record is reported as {"event":"poison",...}.
//   hold <bootstrap> <topic> <group>
//       A KafkaShareConsumer that polls until it gets records, reports them
//       ({"event":"held",...}) and then holds them unacknowledged, heartbeating, until killed.
package dev.sluice.test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public final class ShareClient {
  private ShareClient() {}

  public static void main(String[] args) {
    try {
      switch (args[0]) {
        case "member" -> member(args[1], args[2], args[3], Path.of(args[4]));
        case "hold" -> hold(args[1], args[2], args[3]);
        default -> throw new IllegalArgumentException("unknown command " + args[0]);
      }
      System.exit(0);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
  }

  private static KafkaShareConsumer<String, String> consumer(String bootstrap, String group) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put("share.acknowledgement.mode", "explicit");
    // Small fetches, so that consumers sharing a partition each get part of a burst.
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10");
    return new KafkaShareConsumer<>(p);
  }

  private static String json(String event, ConsumerRecord<String, String> r) {
    return String.format(
        "{\"event\":\"%s\",\"partition\":%d,\"offset\":%d,\"value\":\"%s\",\"deliveryCount\":%d}",
        event, r.partition(), r.offset(), r.value(), r.deliveryCount().map(Short::intValue).orElse(-1));
  }

  private static void member(String bootstrap, String topic, String group, Path stopFile) {
    try (KafkaShareConsumer<String, String> c = consumer(bootstrap, group)) {
      c.subscribe(List.of(topic));
      System.out.println("{\"event\":\"subscribed\"}");
      while (!Files.exists(stopFile)) {
        ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(200));
        if (records.isEmpty()) continue;
        StringBuilder accepted = new StringBuilder();
        for (ConsumerRecord<String, String> r : records) {
          if (r.value().startsWith("poison")) {
            System.out.println(json("poison", r));
            c.acknowledge(r, AcknowledgeType.RELEASE);
          } else {
            c.acknowledge(r, AcknowledgeType.ACCEPT);
            accepted.append(json("record", r)).append('\n');
          }
        }
        Map<TopicIdPartition, Optional<KafkaException>> result = c.commitSync();
        boolean failed = result.values().stream().anyMatch(Optional::isPresent);
        if (failed) {
          System.out.println("{\"event\":\"commit-failed\",\"error\":\"" + result.values().stream().filter(Optional::isPresent).map(e -> e.get().getClass().getSimpleName()).findFirst().orElse("") + "\"}");
        } else {
          System.out.print(accepted);
        }
        System.out.flush();
      }
    }
  }

  private static void hold(String bootstrap, String topic, String group) throws InterruptedException {
    KafkaShareConsumer<String, String> c = consumer(bootstrap, group);
    c.subscribe(List.of(topic));
    System.out.println("{\"event\":\"subscribed\"}");
    for (;;) {
      ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(200));
      if (records.isEmpty()) continue;
      for (ConsumerRecord<String, String> r : records) System.out.println(json("held", r));
      System.out.flush();
      break;
    }
    // Holds the records (never acknowledged) until killed; the consumer's background thread
    // keeps heartbeating.
    Thread.sleep(Long.MAX_VALUE);
  }
}
