// sluice: the package users install from npm. It re-exports the embeddable broker and its
// configuration from @sluice/broker; `sluice/client` is the Kafka client, `sluice/testing` the
// per-test-file broker helper. The published tarball carries these compiled (dist/), see README.md.
export {
  Broker,
  type BoundListener,
  type BrokerSettings,
  BrokerConfig,
  BROKER_CONFIGS,
  ConfigError,
  type ConfigDef,
  createLogger,
  type Logger,
  parseProperties,
  TOPIC_CONFIGS,
} from '@sluice/broker';
