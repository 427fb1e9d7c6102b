/**
 * Where the console is in the server's numbered feeds (the account's and the user's), so a
 * connection that comes back (a network blip, `feed.reset` after the server lost Redis)
 * asks for exactly what it missed, and a push heard twice (live, then in a replay) is
 * handled once. Numbers skip pushes addressed to rooms this connection is not in, so a gap
 * alone means nothing; only the server's replay tells what was missed.
 */

export interface Envelope<T = unknown> {
  event: string;
  seq: number;
  epoch: string;
  room: string;
  data: T;
}

export interface ResyncAsk {
  room: string;
  epoch: string;
  after: number;
}

export type ResyncAnswer =
  | { events: Envelope[] }
  | { reload: true; epoch?: string; after?: number }
  | { error: string };

export class FeedPosition {
  private readonly seen = new Map<string, { epoch: string; seq: number }>();

  /** Whether `push` is new (and, if so, note it): false for one already handled. */
  accept(push: Envelope): boolean {
    const at = this.seen.get(push.room);
    if (at && at.epoch === push.epoch && push.seq <= at.seq) return false;
    this.seen.set(push.room, { epoch: push.epoch, seq: push.seq });
    return true;
  }

  /** The resync to ask for each feed heard from so far. */
  asks(feeds: string[]): ResyncAsk[] {
    return feeds.flatMap((room) => {
      const at = this.seen.get(room);
      return at ? [{ room, epoch: at.epoch, after: at.seq }] : [];
    });
  }

  /**
   * Apply a resync answer for `room`: the pushes to handle now (new ones, in order), and
   * whether everything must be reloaded because what was missed cannot be told.
   */
  settle(room: string, answer: ResyncAnswer): { replay: Envelope[]; reload: boolean } {
    if ("events" in answer) return { replay: answer.events.filter((push) => this.accept(push)), reload: false };
    if ("reload" in answer) {
      if (answer.epoch !== undefined && answer.after !== undefined) {
        this.seen.set(room, { epoch: answer.epoch, seq: answer.after });
      }
      return { replay: [], reload: true };
    }
    return { replay: [], reload: false };
  }
}
