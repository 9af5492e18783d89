"""The confluent-kafka-python client (librdkafka inside) for Sluice's real-client tests and golden
captures. Same conventions as client.py (kafka-python): one command per run; one JSON object per
line on stdout, or the failure on stderr and exit 1.

  admin <bootstrap> <topic> <partitions> [describe_broker: true|false] [delete: true|false]
      AdminClient: list_topics (all topics: librdkafka's Metadata request with trailing bytes),
      create_topics (<topic> with retention.ms set), create it again (TOPIC_ALREADY_EXISTS),
      list_topics again, describe_configs of the topic (and of broker 1 unless told not to),
      then delete_topics when told to (the golden capture's scenario).
  produce <bootstrap> <topic> <count> <none|gzip|snappy|lz4|zstd> [idempotence: true|false] [value_suffix]
      Producer (acks=all, idempotent unless told otherwise): <count> keyed records
      "key-<i>" -> "value-<i><value_suffix>", then flush; one "produced" event per delivery report.
  group <bootstrap> <topic> <group> <members> <count> [timeout_s]
      <members> Consumers in <group> in this process (earliest, no auto commit), polled in turn
      until <count> records arrived and every member holds partitions; each commits what it read
      synchronously (also on a revoke, as rebalances happen while members join), then all close.
  member <bootstrap> <topic> <group> <stop_file> [classic|consumer]
      One long-lived group member (group.protocol=consumer by default: KIP-848), the same as the Java
      client's `member`: polls until <stop_file> exists; commits each polled batch synchronously
      (the next offset of each partition) and only then prints its records, so a printed record is
      a committed one; a failed commit seeks back to the batch's first offsets. Prints "assigned" /
      "revoked" with the partitions of each incremental change.
  group-offsets <bootstrap> <group> <topic>
      AdminClient: the group's committed offsets of <topic>, and describe_consumer_groups (state,
      type, each member's assigned partitions).
  offsets <bootstrap> <topic> <count> <base_timestamp_ms>
      Produces <count> records to partition 0 with timestamps base + 1000 * i, then looks them up:
      Consumer.get_watermark_offsets, Consumer.offsets_for_times, AdminClient.list_offsets
      (earliest, latest, max_timestamp, for a timestamp).
"""

import json
import os
import sys
import time

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

CLIENT_ID = "sluice-confluent-kafka-python"


def emit(**fields):
    print(json.dumps(fields), flush=True)


def admin_client(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap, "client.id": CLIENT_ID})


def admin(bootstrap, topic, partitions, describe_broker, delete):
    client = admin_client(bootstrap)
    md = client.list_topics(timeout=10)
    emit(event="topics", topics=sorted(md.topics), brokers=[b.id for b in md.brokers.values()])

    configs = {"retention.ms": "3600000"}
    futures = client.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1, config=configs)])
    futures[topic].result(timeout=30)
    emit(event="created", topic=topic)

    again = client.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    try:
        again[topic].result(timeout=30)
        emit(event="created-again", topic=topic, error=None)
    except KafkaException as e:
        emit(event="created-again", topic=topic, error=e.args[0].name())

    md = client.list_topics(timeout=10)
    emit(
        event="topics",
        topics=sorted(md.topics),
        partitions={name: len(t.partitions) for name, t in md.topics.items()},
        brokers=[b.id for b in md.brokers.values()],
    )

    resources = [ConfigResource(ResourceType.TOPIC, topic)]
    if describe_broker:
        resources.append(ConfigResource(ResourceType.BROKER, "1"))
    for resource, future in client.describe_configs(resources).items():
        entries = future.result(timeout=30)
        emit(
            event="configs",
            type=resource.restype.name,
            name=resource.name,
            entries={name: entry.value for name, entry in entries.items()},
        )
    if delete:
        client.delete_topics([topic])[topic].result(timeout=30)
        emit(event="deleted", topic=topic)
    emit(event="done")


def produce(bootstrap, topic, count, compression, idempotence, value_suffix):
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": CLIENT_ID,
            "acks": "all",
            "enable.idempotence": idempotence,
            "compression.type": compression,
            "linger.ms": 5,
        }
    )
    failures = []

    def delivered(err, msg):
        if err is not None:
            failures.append(str(err))
            return
        emit(event="produced", key=msg.key().decode(), partition=msg.partition(), offset=msg.offset())

    for i in range(count):
        while True:
            try:
                producer.produce(topic, key=f"key-{i}", value=f"value-{i}{value_suffix}", on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining > 0:
        raise RuntimeError(f"{remaining} records not delivered in 60 s")
    if failures:
        raise RuntimeError(f"delivery failed: {failures[:3]}")
    emit(event="done", count=count)


def group(bootstrap, topic, group_id, members, count, timeout_s):
    consumers = []
    assigned = {}

    def on_assign(index):
        def callback(consumer, partitions):
            assigned[index] = sorted(p.partition for p in partitions)
            emit(event="assigned", member=index, partitions=assigned[index])

        return callback

    def on_revoke(index):
        def callback(consumer, partitions):
            # Eager rebalance: what was read so far is committed before the partitions move on.
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as e:
                if e.args[0].code() != KafkaError._NO_OFFSET:
                    raise
            assigned[index] = []
            emit(event="revoked", member=index, partitions=sorted(p.partition for p in partitions))

        return callback

    for index in range(members):
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "client.id": f"{CLIENT_ID}-{index}",
                "group.id": group_id,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 500,
            }
        )
        consumer.subscribe([topic], on_assign=on_assign(index), on_revoke=on_revoke(index))
        consumers.append(consumer)

    deadline = time.monotonic() + timeout_s
    seen = 0
    try:
        while seen < count or len([a for a in assigned.values() if a]) < members:
            if time.monotonic() > deadline:
                raise RuntimeError(f"consumed {seen} of {count} records, assignments {assigned}, before the timeout")
            for index, consumer in enumerate(consumers):
                msg = consumer.poll(0.1)
                if msg is None:
                    continue
                if msg.error() is not None:
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(msg.error())
                seen += 1
                emit(
                    event="record",
                    member=index,
                    partition=msg.partition(),
                    offset=msg.offset(),
                    key=msg.key().decode(),
                    value=msg.value().decode(),
                )
        for index, consumer in enumerate(consumers):
            committed = consumer.commit(asynchronous=False)
            emit(
                event="committed",
                member=index,
                offsets={str(tp.partition): tp.offset for tp in committed},
            )
    finally:
        for consumer in consumers:
            consumer.close()
    emit(event="done", count=seen)


def member(bootstrap, topic, group_id, stop_file, group_protocol):
    config = {
        "bootstrap.servers": bootstrap,
        "client.id": CLIENT_ID,
        "group.id": group_id,
        "group.protocol": group_protocol,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
    consumer = Consumer(config)

    def on_assign(consumer, partitions):
        emit(event="assigned", partitions=sorted(p.partition for p in partitions))

    def on_revoke(consumer, partitions):
        emit(event="revoked", partitions=sorted(p.partition for p in partitions))

    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    emit(event="started")
    try:
        while not os.path.exists(stop_file):
            batch = [m for m in consumer.consume(num_messages=500, timeout=0.2) if m.error() is None]
            if not batch:
                continue
            first = {}
            commit = {}
            for m in batch:
                first.setdefault(m.partition(), m.offset())
                commit[m.partition()] = m.offset() + 1
            try:
                consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in commit.items()], asynchronous=False)
            except KafkaException as e:
                emit(event="commitFailed", error=e.args[0].name())
                owned = {tp.partition for tp in consumer.assignment()}
                for p, o in first.items():
                    if p in owned:
                        consumer.seek(TopicPartition(topic, p, o))
                continue
            for m in batch:
                emit(event="record", partition=m.partition(), offset=m.offset(), key=m.key().decode(),
                     value=m.value().decode())
    finally:
        consumer.close()
    emit(event="done")


def group_offsets(bootstrap, group_id, topic):
    client = admin_client(bootstrap)
    [listed] = client.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_id)]).values()
    committed = listed.result(timeout=30).topic_partitions
    emit(event="offsets", offsets={str(tp.partition): tp.offset for tp in committed if tp.topic == topic and tp.offset >= 0})
    described = client.describe_consumer_groups([group_id])[group_id].result(timeout=30)
    members = [sorted(tp.partition for tp in m.assignment.topic_partitions) for m in described.members]
    # Kafka's names as the Java client prints them ("Empty", "Consumer"), for the shared checks.
    emit(event="described", state=described.state.name.title(), type=described.type.name.title(), members=members)


def offsets(bootstrap, topic, count, base_ts):
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": CLIENT_ID, "acks": "all", "linger.ms": 0})
    for i in range(count):
        producer.produce(topic, key=f"key-{i}", value=f"value-{i}", partition=0, timestamp=base_ts + 1000 * i)
    if producer.flush(60) > 0:
        raise RuntimeError("records not delivered in 60 s")

    consumer = Consumer({"bootstrap.servers": bootstrap, "client.id": CLIENT_ID, "group.id": f"{topic}-lookups"})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        emit(event="watermarks", low=low, high=high)
        # Between the timestamps of records 3 and 4: the first record at or after it is 4.
        # Past the last record: -1 (none), as Kafka answers.
        lookups = [base_ts + 3500, base_ts, base_ts + 1000 * count + 5000]
        # One lookup per call: a list naming the same partition twice is one lookup to librdkafka.
        for ts in lookups:
            [found] = consumer.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            emit(event="offsets_for_times", timestamp=ts, offset=found.offset,
                 error=found.error.name() if found.error else None)
    finally:
        consumer.close()

    client = admin_client(bootstrap)
    tp = TopicPartition(topic, 0)
    specs = {
        "earliest": OffsetSpec.earliest(),
        "latest": OffsetSpec.latest(),
        "max_timestamp": OffsetSpec.max_timestamp(),
        "for_timestamp": OffsetSpec.for_timestamp(base_ts + 5500),
    }
    for name, spec in specs.items():
        result = client.list_offsets({tp: spec}, request_timeout=10)[tp].result(timeout=30)
        emit(event="list_offsets", spec=name, offset=result.offset, timestamp=result.timestamp)
    emit(event="done")


def main(argv):
    if len(argv) < 2:
        raise SystemExit("usage: confluent_client.py admin|produce|group|member|group-offsets|offsets ...")
    command = argv[1]
    if command == "admin":
        admin(argv[2], argv[3], int(argv[4]), argv[5] != "false" if len(argv) > 5 else True,
              argv[6] == "true" if len(argv) > 6 else False)
    elif command == "produce":
        produce(argv[2], argv[3], int(argv[4]), argv[5], argv[6] != "false" if len(argv) > 6 else True,
                argv[7] if len(argv) > 7 else "")
    elif command == "group":
        group(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), float(argv[7]) if len(argv) > 7 else 90.0)
    elif command == "member":
        member(argv[2], argv[3], argv[4], argv[5], argv[6] if len(argv) > 6 else "consumer")
    elif command == "group-offsets":
        group_offsets(argv[2], argv[3], argv[4])
    elif command == "offsets":
        offsets(argv[2], argv[3], int(argv[4]), int(argv[5]))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # noqa: BLE001 - one line on stderr, exit 1, for the test to report
        print(f"confluent-kafka client: {e!r}", file=sys.stderr)
        sys.exit(1)
