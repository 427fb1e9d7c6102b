import { describe, expect, it } from "vitest";
import { describeMinutes, emptyForm, fromApi, summary, toApi, type Policy } from "./sla";

const POLICY: Policy = {
  id: "p1",
  name: "Standard",
  description: null,
  enabled: true,
  position: 0,
  hours: "calendar",
  targets: { urgent: { first_response: 15, resolution: 240 }, low: { next_response: 1440 } },
  warning: { percent: 80 },
  conditions: { channel_ids: ["c1"], team_ids: [], priorities: ["urgent", "low"] },
};

describe("SLA policy form", () => {
  it("round-trips the API's shape", () => {
    const body = toApi(fromApi(POLICY));
    expect(body).toEqual({
      name: "Standard",
      description: null,
      enabled: true,
      hours: "calendar",
      targets: { urgent: { first_response: 15, resolution: 240 }, low: { next_response: 1440 } },
      warning: { percent: 80 },
      conditions: { channel_ids: ["c1"], team_ids: [], priorities: ["urgent", "low"] },
    });
  });

  it("starts empty: business hours, no targets, no warning", () => {
    const form = emptyForm();
    expect(form.hours).toBe("business");
    expect(form.targets.urgent.first_response).toBe("");
    expect(toApi(form).targets).toEqual({});
    expect(toApi(form).warning).toBeNull();
  });

  it("sends a warning in minutes before a deadline", () => {
    const form = { ...emptyForm(), name: "x", warning: "minutes_before" as const, warningValue: "30" };
    expect(toApi(form).warning).toEqual({ minutes_before: 30 });
    expect(fromApi({ ...POLICY, warning: { minutes_before: 30 } }).warning).toBe("minutes_before");
  });

  it("passes what is not a number on, for the API to refuse next to the field", () => {
    const form = emptyForm();
    form.targets.high.resolution = "soon";
    expect(toApi(form).targets.high.resolution).toBe("soon");
  });
});

describe("describeMinutes and summary", () => {
  it("reads minutes as days, hours and minutes", () => {
    expect(describeMinutes("90")).toBe("1 h 30 min");
    expect(describeMinutes("2880")).toBe("2 d");
    expect(describeMinutes("15")).toBe("15 min");
    expect(describeMinutes("")).toBeUndefined();
    expect(describeMinutes("x")).toBeUndefined();
  });

  it("summarises a policy's targets", () => {
    expect(summary(POLICY)).toBe("Urgent: first response 15 min, resolution 4 h; Low: next response 1 d");
    expect(summary({ ...POLICY, targets: {} })).toBe("No targets");
  });
});
