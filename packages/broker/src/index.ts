// @sluice/broker: the embeddable broker and its configuration.
export { Broker, type BoundListener, type BrokerSettings } from './broker.ts';
export { BrokerConfig, BROKER_CONFIGS, ConfigError, parseProperties, type ConfigDef } from './config.ts';
export { TOPIC_CONFIGS } from './topic-config.ts';
export { createLogger, type Logger } from './logger.ts';
export { JaasParseError, parseJaasConfig } from './security/sasl/jaas.ts';
