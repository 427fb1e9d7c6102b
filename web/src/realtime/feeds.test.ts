import { describe, expect, it } from "vitest";
import { FeedPosition, type Envelope } from "./feeds";

const push = (room: string, seq: number, epoch = "e1"): Envelope => ({ event: "x", seq, epoch, room, data: { seq } });

describe("FeedPosition", () => {
  it("handles each push once, whatever order duplicates come in", () => {
    const position = new FeedPosition();
    expect(position.accept(push("account:1", 4))).toBe(true);
    expect(position.accept(push("account:1", 4))).toBe(false);
    expect(position.accept(push("account:1", 3))).toBe(false);
    expect(position.accept(push("account:1", 9))).toBe(true); // numbers skip other rooms' pushes
    expect(position.accept(push("user:1:2", 1))).toBe(true); // feeds are numbered apart
  });

  it("takes a new epoch's numbers afresh", () => {
    const position = new FeedPosition();
    position.accept(push("account:1", 50));
    expect(position.accept(push("account:1", 1, "e2"))).toBe(true);
  });

  it("asks each feed heard from for what followed its last push", () => {
    const position = new FeedPosition();
    position.accept(push("account:1", 7));
    expect(position.asks(["account:1", "user:1:2"])).toEqual([{ room: "account:1", epoch: "e1", after: 7 }]);
  });

  it("replays only what was not handled yet", () => {
    const position = new FeedPosition();
    position.accept(push("account:1", 7));
    const { replay, reload } = position.settle("account:1", { events: [push("account:1", 7), push("account:1", 8)] });
    expect(replay.map((p) => p.seq)).toEqual([8]);
    expect(reload).toBe(false);
  });

  it("reloads when the server cannot tell what was missed, and carries on from where it says", () => {
    const position = new FeedPosition();
    position.accept(push("account:1", 7));
    expect(position.settle("account:1", { reload: true, epoch: "e2", after: 30 }).reload).toBe(true);
    expect(position.accept(push("account:1", 30, "e2"))).toBe(false);
    expect(position.accept(push("account:1", 31, "e2"))).toBe(true);
  });
});
