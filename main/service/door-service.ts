/**
 * What a door (Electron IPC, HTTP + WebSocket) needs of the service: every call of the contract by
 * name with its raw input (the service validates it), every event, and the bytes behind the media
 * URLs of images. The Service implements it; the doors depend on this and nothing else of it.
 */
import type { EventName } from '../contract/contract';

export interface DoorService {
  call(name: string, rawInput: unknown): Promise<unknown>;
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void;
  thumbnail(project: string, id: number): Buffer | null;
  fullImage(project: string, id: number): Promise<{ data: Buffer; contentType: string }>;
}
