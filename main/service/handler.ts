/**
 * The shape of a handler: one per call of the contract, taking the call's validated input (the
 * service parses it before) and returning its output. Each handlers-<area>.ts returns the handlers
 * of its area's table as HandlersOf<typeof <area>Calls>.
 */
import type { CallArgs, CallName, CallOutput } from '../contract/contract';

export type Handler<N extends CallName> = (args: CallArgs<N>) => Promise<CallOutput<N>> | CallOutput<N>;

export type HandlersOf<Table> = { [N in keyof Table & CallName]: Handler<N> };
