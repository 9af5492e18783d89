// InitProducerId (key 22).
// Behavior: an idempotent producer (transactionalId null) always gets a new producer id with
// epoch 0: Kafka's TransactionCoordinator.handleInitProducerId "blindly accepts" such a request,
// also in the v3+ form that carries the producer's current id and epoch (KIP-360), and the
// producer goes on with the new id. As in KafkaApis, a half-given pair (exactly one of
// producerId / producerEpoch is -1) is INVALID_REQUEST. Ids come from the broker's
// ProducerIdManager (blocks reserved durably in the first log dir, never reused across
// restarts); when a block cannot be reserved (the file write failed) the answer is the
// retriable COORDINATOR_LOAD_IN_PROGRESS, Kafka's answer while it waits for an id block.
// A transactional producer (a transactional id) goes to the transaction coordinator
// (transactions/coordinator.ts): a new id gets a producer id at epoch 0, a known one its epoch
// bumped (an open transaction is aborted first: CONCURRENT_TRANSACTIONS, retry), KIP-360
// resumption with the producer's id and epoch, INVALID_TRANSACTION_TIMEOUT past
// transaction.max.timeout.ms; COORDINATOR_LOAD_IN_PROGRESS while `__transaction_state` loads.
// Version notes: served v0–5. v1 only changes throttling; v2+ flexible; v3 adds
// producerId/producerEpoch; v4 knows PRODUCER_FENCED (older: INVALID_PRODUCER_EPOCH) and v5
// TRANSACTION_ABORTABLE (older: INVALID_TXN_STATE), through errorForVersion.

import { ApiKey, ErrorCode, type InitProducerIdResponse } from '@sluice/protocol';
import { errorForVersion } from '../transactions/versioned-errors.ts';
import { AclOperation, authorize, authorizeByResourceType, authorizeQuietly, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const NO_PRODUCER_ID = -1;
const NO_PRODUCER_EPOCH = -1;

function failed(errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

export const initProducerIdHandler = defineHandler({
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request): Promise<InitProducerIdResponse> {
    const { broker } = ctx;
    const transactionalId = request.transactionalId;
    const producerId = request.producerId ?? NO_PRODUCER_ID;
    const producerEpoch = request.producerEpoch ?? NO_PRODUCER_EPOCH;
    // Kafka, before anything else: WRITE on the transactional id; without one, IDEMPOTENT_WRITE on
    // the cluster or WRITE on some topic.
    if (transactionalId !== null && !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId))
      return failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (
      transactionalId === null &&
      !authorizeQuietly(ctx, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME) &&
      !authorizeByResourceType(ctx, AclOperation.WRITE, ResourceType.TOPIC)
    ) {
      authorize(ctx, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME); // counted and logged as the denial
      return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    if ((producerId === NO_PRODUCER_ID) !== (producerEpoch === NO_PRODUCER_EPOCH)) return failed(ErrorCode.INVALID_REQUEST);
    if (transactionalId !== null) {
      if (transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
      const answer = await broker.transactions.initProducerId({
        transactionalId,
        transactionTimeoutMs: request.transactionTimeoutMs,
        producerId,
        producerEpoch,
      });
      return { throttleTimeMs: 0, ...answer, errorCode: errorForVersion(ApiKey.InitProducerId, ctx.header.apiVersion, answer.errorCode) };
    }
    let id: number;
    try {
      id = broker.producerIds.generate();
    } catch (err) {
      broker.logger.error({ err }, 'reserving a block of producer ids failed');
      return failed(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    }
    broker.logger.debug({ producerId: id, previousProducerId: producerId, clientId: ctx.header.clientId }, 'producer id allocated');
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: id, producerEpoch: 0 };
  },
});
