"""The kafka-python client for Sluice's real-client tests and golden captures.

One command per run; prints one JSON object per line on stdout, or the failure on stderr and
exits 1.

  produce <bootstrap> <topic> <count> [none|gzip] [idempotence: true|false] [value_suffix]
      KafkaProducer (acks=all, idempotent unless told otherwise, as kafka-python 3 defaults):
      <count> keyed records "key-<i>" -> "value-<i><value_suffix>", then flush.
  consume <bootstrap> <topic> <group> <count> [timeout_s]
      KafkaConsumer in <group> (earliest, no auto commit): polls until <count> records, commits
      synchronously, closes (leaving the group).
"""

import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer


def emit(**fields):
    print(json.dumps(fields), flush=True)


def produce(bootstrap, topic, count, compression, idempotence, value_suffix):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="sluice-kafka-python",
        acks="all",
        compression_type=None if compression == "none" else compression,
        linger_ms=5,
        enable_idempotence=idempotence,
    )
    try:
        futures = [
            producer.send(topic, key=f"key-{i}".encode(), value=f"value-{i}{value_suffix}".encode())
            for i in range(count)
        ]
        producer.flush(timeout=60)
        for i, future in enumerate(futures):
            md = future.get(timeout=60)
            emit(event="produced", key=f"key-{i}", partition=md.partition, offset=md.offset)
        emit(event="done", count=count)
    finally:
        producer.close(timeout=10)


def consume(bootstrap, topic, group, count, timeout_s):
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        client_id="sluice-kafka-python",
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    deadline = time.monotonic() + timeout_s
    seen = 0
    try:
        while seen < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"consumed {seen} of {count} records before the timeout")
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    seen += 1
                    emit(event="record", partition=r.partition, offset=r.offset,
                         key=r.key.decode(), value=r.value.decode())
        consumer.commit()
        emit(event="committed")
    finally:
        consumer.close()
    emit(event="done", count=seen)


def main(argv):
    if len(argv) < 2:
        raise SystemExit("usage: client.py produce|consume ...")
    command = argv[1]
    if command == "produce":
        produce(argv[2], argv[3], int(argv[4]), argv[5] if len(argv) > 5 else "none",
                argv[6] != "false" if len(argv) > 6 else True, argv[7] if len(argv) > 7 else "")
    elif command == "consume":
        consume(argv[2], argv[3], argv[4], int(argv[5]), float(argv[6]) if len(argv) > 6 else 60.0)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # noqa: BLE001 - one line on stderr, exit 1, for the test to report
        print(f"kafka-python client: {e!r}", file=sys.stderr)
        sys.exit(1)
