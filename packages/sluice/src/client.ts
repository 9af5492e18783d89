// sluice/client: the small Kafka client the sluice command is built on (@sluice/client), for
// code that wants to talk to a broker without another dependency.
export * from '@sluice/client';
