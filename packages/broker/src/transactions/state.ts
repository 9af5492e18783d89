// The states of a transactional id, as Kafka's TransactionState defines them: the status byte
// stored in `__transaction_state` (set in stone: it is Kafka's), the name DescribeTransactions
// and ListTransactions report, and which states may precede each one.
//
//   Empty ──AddPartitions──▶ Ongoing ──EndTxn(commit)──▶ PrepareCommit ──markers──▶ CompleteCommit
//     ▲                        │  ╲──EndTxn(abort)───▶ PrepareAbort ───markers──▶ CompleteAbort
//     │                        ╰─InitProducerId / timeout─▶ PrepareEpochFence ─▶ PrepareAbort
//     ╰── InitProducerId from Empty / CompleteCommit / CompleteAbort (epoch bump)
//   Dead: expired (transactional.id.expiration.ms); only a tombstone is written.
//
// PrepareEpochFence lives in memory only, as a pending state between the fencing InitProducerId
// (or the timeout) and the PrepareAbort it becomes; it is never written to the log.

export type TransactionState = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort' | 'Dead' | 'PrepareEpochFence';

/** Kafka's TransactionState ids: the TransactionStatus byte of a TransactionLogValue. */
export const TRANSACTION_STATUS: Readonly<Record<TransactionState, number>> = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
};

export const TRANSACTION_STATES: readonly TransactionState[] = Object.keys(TRANSACTION_STATUS) as TransactionState[];

/** The state for a status byte, or null for a byte Kafka does not define. */
export function stateFromStatus(status: number): TransactionState | null {
  return TRANSACTION_STATES.find((s) => TRANSACTION_STATUS[s] === status) ?? null;
}

/**
 * The states a transition into each state may start from (Kafka's validPreviousStates). With
 * transaction.version 2 an abort may also start from Empty / CompleteCommit / CompleteAbort (the
 * producer aborts a transaction in which it has added nothing yet).
 */
export const VALID_PREVIOUS_STATES: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareEpochFence: ['Ongoing'],
};

/** States whose transactional id may expire after transactional.id.expiration.ms of idleness. */
export function expirationAllowed(state: TransactionState): boolean {
  return state === 'Empty' || state === 'CompleteCommit' || state === 'CompleteAbort';
}

/** A transaction is open (partitions may hold its records without a marker yet). */
export function hasPendingTransaction(state: TransactionState): boolean {
  return state === 'Ongoing' || state === 'PrepareCommit' || state === 'PrepareAbort';
}
