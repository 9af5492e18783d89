// The Java client (org.apache.kafka:kafka-clients 4.x) for Sluice's real-client tests and golden
// captures. One command per run; each prints one JSON object per line on stdout and exits 0, or
// prints the failure on stderr and exits 1.
//
//   admin <bootstrap> <topic> <partitions>
//       AdminClient: create the topic (with retention.ms=3600000), create it again (expects
//       TopicExistsException), list, describe, describe configs, describe cluster, delete.
//   produce <bootstrap> <topic> <count> <codec,codec,...> [idempotence=true|false] [valueSuffix]
//       For each codec one KafkaProducer (acks=all, compression.type=codec) sends <count> keyed
//       records "<codec>-<i>" -> "value-<codec>-<i><valueSuffix>" and flushes.
//   consume <bootstrap> <topic> <group> <count> [timeoutMs] [isolation]
//       A KafkaConsumer in <group> (auto.offset.reset=earliest, no auto commit) polls until it
//       has <count> records, commits them synchronously and leaves. isolation read_committed: it
//       then polls two more seconds and reports anything that arrives (nothing should).
//   transactional <bootstrap> <inTopic> <outTopic> <group> <transactionalId> [groupProtocol]
//       A transactional producer: one committed and one aborted transaction of 5 records each to
//       <outTopic>; a consume-transform-produce transaction (a consumer in <group> reads 5
//       records of <inTopic>, the producer sends them upper-cased and sendOffsetsToTransaction
//       with the consumer's group metadata — group.protocol classic or consumer (KIP-848) — then commits); then a second producer with the same
//       transactional id fences the first (its next transaction fails with ProducerFencedException)
//       and commits one record of its own. Reports the group's committed offsets at the end.
//   member <bootstrap> <topic> <group> <stopFile> <groupProtocol>
//       A long-running KafkaConsumer in <group> with group.protocol=<groupProtocol> (consumer:
//       KIP-848). After each poll it commits the batch synchronously and only then reports its
//       records as processed, so a record is reported once it is committed; a failed commit
//       rewinds the batch's partitions it still owns. Reports assignments and revocations. Runs
//       until <stopFile> exists, then closes (leaving the group).
//   group-offsets <bootstrap> <group> <topic>
//       Admin: the group's committed offsets for <topic> and describeConsumerGroups.
//   txn-loop <bootstrap> <topic> <transactionalId> <stopFile>
//       A transactional producer runs transactions back to back until <stopFile> exists:
//       transaction i sends 5 records "txn-<i>-<j>" (keys spread them over the partitions) and
//       commits, except every fourth, which it aborts. Reports each outcome once the client
//       says so (committed / aborted); a transaction whose commit failed is reported as
//       uncertain (then aborted if the client allows). Generous timeouts: the client is meant
//       to ride out broker failures by itself (coordinator rediscovery, retries).
//
// Every client starts from the properties file named by the system property sluice.client.config
// when it is set (security settings: security.protocol, sasl.*, ssl.*), as Kafka's tools take
// --command-config; the command's own settings are added on top.
package dev.sluice.test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class JavaClient {
  private JavaClient() {}

  public static void main(String[] args) {
    try {
      if (args.length < 1) throw new IllegalArgumentException("usage: admin|produce|consume ...");
      switch (args[0]) {
        case "admin" -> admin(arg(args, 1), arg(args, 2), Integer.parseInt(arg(args, 3)));
        case "produce" ->
            produce(arg(args, 1), arg(args, 2), Integer.parseInt(arg(args, 3)), arg(args, 4).split(","),
                args.length > 5 ? Boolean.parseBoolean(args[5]) : true, args.length > 6 ? args[6] : "");
        case "consume" ->
            consume(arg(args, 1), arg(args, 2), arg(args, 3), Integer.parseInt(arg(args, 4)),
                args.length > 5 ? Long.parseLong(args[5]) : 60_000L, args.length > 6 ? args[6] : "read_uncommitted");
        case "transactional" ->
            transactional(arg(args, 1), arg(args, 2), arg(args, 3), arg(args, 4), arg(args, 5), args.length > 6 ? args[6] : "classic");
        case "member" -> member(arg(args, 1), arg(args, 2), arg(args, 3), Path.of(arg(args, 4)), arg(args, 5));
        case "group-offsets" -> groupOffsets(arg(args, 1), arg(args, 2), arg(args, 3));
        case "txn-loop" -> txnLoop(arg(args, 1), arg(args, 2), arg(args, 3), Path.of(arg(args, 4)));
        default -> throw new IllegalArgumentException("unknown command " + args[0]);
      }
      System.exit(0);
    } catch (Throwable t) {
      System.err.println("java client: " + t);
      t.printStackTrace(System.err);
      System.exit(1);
    }
  }

  /** The properties of sluice.client.config (a file path), or none. */
  private static Properties clientProperties() {
    Properties props = new Properties();
    String file = System.getProperty("sluice.client.config");
    if (file == null || file.isEmpty()) return props;
    try (java.io.Reader in = Files.newBufferedReader(Path.of(file))) {
      props.load(in);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot read sluice.client.config " + file, e);
    }
    return props;
  }

  private static String arg(String[] args, int i) {
    if (i >= args.length) throw new IllegalArgumentException("missing argument " + i);
    return args[i];
  }

  private static void admin(String bootstrap, String topic, int partitions) throws Exception {
    Properties props = clientProperties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-java-admin");
    try (Admin admin = Admin.create(props)) {
      NewTopic newTopic = new NewTopic(topic, partitions, (short) 1).configs(Map.of("retention.ms", "3600000"));
      admin.createTopics(List.of(newTopic)).all().get();
      emit("event", "created", "topic", topic);

      try {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        emit("event", "createdAgain");
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
        emit("event", "exists", "error", e.getCause().getClass().getSimpleName());
      }

      Set<String> names = admin.listTopics().names().get();
      emit("event", "listed", "containsTopic", names.contains(topic));

      TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      List<Integer> leaders = new ArrayList<>();
      description.partitions().forEach(p -> leaders.add(p.leader().id()));
      emit("event", "described", "topic", description.name(), "partitions", description.partitions().size(),
          "leaders", leaders, "internal", description.isInternal());

      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
      Map<String, Object> configs = new TreeMap<>();
      for (String name : List.of("retention.ms", "cleanup.policy", "segment.bytes")) {
        ConfigEntry entry = config.get(name);
        configs.put(name, entry == null ? null : Map.of("value", String.valueOf(entry.value()), "source", entry.source().name()));
      }
      emit("event", "configs", "configs", configs);

      DescribeClusterResult cluster = admin.describeCluster();
      List<Integer> nodes = new ArrayList<>();
      cluster.nodes().get().forEach(n -> nodes.add(n.id()));
      emit("event", "cluster", "clusterId", cluster.clusterId().get(), "nodes", nodes,
          "controller", cluster.controller().get().id());

      admin.deleteTopics(List.of(topic)).all().get();
      emit("event", "deleted", "containsTopic", admin.listTopics().names().get().contains(topic));
    }
  }

  private static void produce(String bootstrap, String topic, int count, String[] codecs, boolean idempotence,
      String valueSuffix) throws Exception {
    for (String codec : codecs) {
      Properties props = clientProperties();
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-java-producer");
      props.put(ProducerConfig.ACKS_CONFIG, "all");
      props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
      props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotence));
      props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
      props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>(count);
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        for (int i = 0; i < count; i++) {
          sent.add(producer.send(new ProducerRecord<>(topic, codec + "-" + i, "value-" + codec + "-" + i + valueSuffix)));
        }
        producer.flush();
        Map<Integer, Integer> perPartition = new TreeMap<>();
        for (java.util.concurrent.Future<RecordMetadata> f : sent) {
          RecordMetadata md = f.get();
          perPartition.merge(md.partition(), 1, Integer::sum);
        }
        emit("event", "produced", "compression", codec, "count", sent.size(), "perPartition", perPartition);
      }
    }
  }

  private static void consume(String bootstrap, String topic, String group, int count, long timeoutMs, String isolation) {
    Properties props = clientProperties();
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-java-consumer");
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    long deadline = System.currentTimeMillis() + timeoutMs;
    int seen = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic));
      while (seen < count) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("consumed " + seen + " of " + count + " records before the timeout");
        }
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
        for (ConsumerRecord<String, String> r : records) {
          seen++;
          emit("event", "record", "partition", r.partition(), "offset", r.offset(), "key", r.key(), "value", r.value());
        }
      }
      if (isolation.equals("read_committed")) {
        long quietUntil = System.currentTimeMillis() + 2_000;
        while (System.currentTimeMillis() < quietUntil) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            seen++;
            emit("event", "record", "partition", r.partition(), "offset", r.offset(), "key", r.key(), "value", r.value());
          }
        }
      }
      consumer.commitSync();
      emit("event", "committed");
    }
    emit("event", "done", "count", seen);
  }

  private static KafkaProducer<String, String> transactionalProducer(String bootstrap, String transactionalId) {
    Properties props = clientProperties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-java-txn-" + transactionalId);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "30000");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    KafkaProducer<String, String> producer = new KafkaProducer<>(props);
    producer.initTransactions();
    return producer;
  }

  private static void transactional(String bootstrap, String inTopic, String outTopic, String group, String transactionalId,
      String groupProtocol) throws Exception {
    KafkaProducer<String, String> first = transactionalProducer(bootstrap, transactionalId);
    emit("event", "initialized");
    first.beginTransaction();
    for (int i = 0; i < 5; i++) first.send(new ProducerRecord<>(outTopic, "k" + i, "committed-" + i));
    first.commitTransaction();
    emit("event", "committedTransaction");
    first.beginTransaction();
    for (int i = 0; i < 5; i++) first.send(new ProducerRecord<>(outTopic, "k" + i, "aborted-" + i));
    first.flush();
    first.abortTransaction();
    emit("event", "abortedTransaction");

    Properties cprops = new Properties();
    cprops.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cprops.put(ConsumerConfig.CLIENT_ID_CONFIG, "sluice-java-ctp");
    cprops.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, groupProtocol);
    cprops.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    cprops.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cprops.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cprops.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    cprops.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cprops.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cprops)) {
      consumer.subscribe(List.of(inTopic));
      List<ConsumerRecord<String, String>> read = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 60_000;
      while (read.size() < 5) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("read " + read.size() + " of 5 input records");
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) if (read.size() < 5) read.add(r);
      }
      first.beginTransaction();
      Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets = new java.util.HashMap<>();
      for (ConsumerRecord<String, String> r : read) {
        first.send(new ProducerRecord<>(outTopic, r.key(), r.value().toUpperCase()));
        offsets.merge(new org.apache.kafka.common.TopicPartition(r.topic(), r.partition()),
            new org.apache.kafka.clients.consumer.OffsetAndMetadata(r.offset() + 1), (a, b) -> a.offset() > b.offset() ? a : b);
      }
      first.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      first.commitTransaction();
      emit("event", "consumeTransformProduce", "records", read.size());
    }

    // A second instance with the same transactional id fences the first.
    KafkaProducer<String, String> second = transactionalProducer(bootstrap, transactionalId);
    try {
      first.beginTransaction();
      first.send(new ProducerRecord<>(outTopic, "zombie", "zombie")).get();
      first.commitTransaction();
      emit("event", "zombieCommitted");
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      emit("event", "fenced", "error", cause.getClass().getSimpleName());
    } finally {
      first.close(Duration.ofSeconds(5));
    }
    second.beginTransaction();
    second.send(new ProducerRecord<>(outTopic, "second", "second-instance"));
    second.commitTransaction();
    second.close();
    emit("event", "secondCommitted");

    Properties aprops = new Properties();
    aprops.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(aprops)) {
      Map<String, Object> committed = new TreeMap<>();
      admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
          .forEach((tp, om) -> committed.put(tp.topic() + "-" + tp.partition(), om == null ? null : om.offset()));
      emit("event", "groupOffsets", "offsets", committed);
    }
  }

  private static List<Integer> partitionsOf(Collection<TopicPartition> tps) {
    return tps.stream().map(TopicPartition::partition).sorted().toList();
  }

  private static void member(String bootstrap, String topic, String group, Path stopFile, String groupProtocol) {
    Properties props = clientProperties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, groupProtocol);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          emit("event", "revoked", "partitions", partitionsOf(partitions));
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          emit("event", "assigned", "partitions", partitionsOf(partitions));
        }
      });
      emit("event", "started");
      while (!Files.exists(stopFile)) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) continue;
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          first.putIfAbsent(tp, r.offset());
          commit.put(tp, new OffsetAndMetadata(r.offset() + 1));
        }
        try {
          consumer.commitSync(commit);
        } catch (RuntimeException e) {
          emit("event", "commitFailed", "error", e.getClass().getSimpleName());
          for (Map.Entry<TopicPartition, Long> f : first.entrySet()) {
            if (consumer.assignment().contains(f.getKey())) consumer.seek(f.getKey(), f.getValue());
          }
          continue;
        }
        for (ConsumerRecord<String, String> r : records) {
          emit("event", "record", "partition", r.partition(), "offset", r.offset(), "key", r.key(), "value", r.value());
        }
      }
    }
    emit("event", "done");
  }

  private static void txnLoop(String bootstrap, String topic, String transactionalId, Path stopFile) {
    Properties props = clientProperties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "sluice-java-txn-loop");
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "120000");
    props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "100");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      producer.initTransactions();
      emit("event", "initialized");
      for (int i = 0; !Files.exists(stopFile); i++) {
        boolean commit = i % 4 != 3;
        producer.beginTransaction();
        try {
          for (int j = 0; j < 5; j++) producer.send(new ProducerRecord<>(topic, "k" + j, "txn-" + i + "-" + j));
          if (commit) producer.commitTransaction();
          else producer.abortTransaction();
          emit("event", commit ? "committed" : "aborted", "txn", i);
        } catch (org.apache.kafka.common.errors.ProducerFencedException | org.apache.kafka.common.errors.OutOfOrderSequenceException
            | org.apache.kafka.common.errors.AuthorizationException e) {
          throw e;
        } catch (org.apache.kafka.common.KafkaException e) {
          emit("event", "uncertain", "txn", i, "error", e.getClass().getSimpleName() + ": " + e.getMessage());
          producer.abortTransaction();
        }
      }
    }
    emit("event", "done");
  }

  private static void groupOffsets(String bootstrap, String group, String topic) throws Exception {
    Properties props = clientProperties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(props)) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      Map<String, Object> byPartition = new TreeMap<>();
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
        if (e.getKey().topic().equals(topic) && e.getValue() != null) byPartition.put(String.valueOf(e.getKey().partition()), e.getValue().offset());
      }
      emit("event", "offsets", "offsets", byPartition);
      ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
      List<Object> members = new ArrayList<>();
      for (MemberDescription m : d.members()) members.add(partitionsOf(m.assignment().topicPartitions()));
      emit("event", "described", "state", d.groupState().toString(), "type", d.type().toString(), "members", members);
    }
  }

  /** Prints one JSON object from alternating keys and values. */
  private static void emit(Object... kv) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < kv.length; i += 2) {
      if (i > 0) sb.append(',');
      json(sb, kv[i]);
      sb.append(':');
      json(sb, kv[i + 1]);
    }
    System.out.println(sb.append('}'));
  }

  private static void json(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) sb.append(',');
        first = false;
        json(sb, String.valueOf(e.getKey()));
        sb.append(':');
        json(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) sb.append(',');
        json(sb, l.get(i));
      }
      sb.append(']');
    } else {
      sb.append('"');
      for (char c : v.toString().toCharArray()) {
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          default -> {
            if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
          }
        }
      }
      sb.append('"');
    }
  }
}
