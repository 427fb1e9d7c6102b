import { describe, expect, it } from "vitest";
import { copyToAll, fromTimeInput, nextInterval, setOpen, toApi, toEditable, toTimeInput } from "./hours";

describe("business hours", () => {
  it("lists every weekday, the ones the API leaves out closed", () => {
    const days = toEditable({ mon: [{ start: "09:00", end: "12:30" }, { start: "13:30", end: "17:00" }] });
    expect(days).toHaveLength(7);
    expect(days[0]).toEqual({ day: "mon", open: true, intervals: [{ start: "09:00", end: "12:30" }, { start: "13:30", end: "17:00" }] });
    expect(days[6]).toEqual({ day: "sun", open: false, intervals: [] });
  });

  it("goes back to the API's shape with only open days", () => {
    const hours = { tue: [{ start: "08:00", end: "16:00" }], sat: [{ start: "10:00", end: "14:00" }] };
    expect(toApi(toEditable(hours))).toEqual(hours);
    expect(toApi(toEditable(null))).toEqual({});
  });

  it("leaves out an open day without intervals and a closed day's hours", () => {
    const days = toEditable({});
    days[0] = { day: "mon", open: true, intervals: [] };
    days[1] = { day: "tue", open: false, intervals: [{ start: "09:00", end: "10:00" }] };
    expect(toApi(days)).toEqual({});
  });

  it("opens a day with the usual hours and closes it", () => {
    const opened = setOpen(toEditable({}), "wed", true);
    expect(toApi(opened)).toEqual({ wed: [{ start: "09:00", end: "17:00" }] });
    expect(toApi(setOpen(opened, "wed", false))).toEqual({});
  });

  it("copies a day's hours to every weekday", () => {
    const days = copyToAll(toEditable({ mon: [{ start: "09:00", end: "17:00" }] }), "mon");
    expect(Object.keys(toApi(days))).toEqual(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
  });

  it("proposes a next interval after the last one", () => {
    expect(nextInterval([])).toEqual({ start: "09:00", end: "17:00" });
    expect(nextInterval([{ start: "09:00", end: "12:00" }])).toEqual({ start: "13:00", end: "17:00" });
    expect(nextInterval([{ start: "09:00", end: "23:00" }]).end).toBe("24:00");
  });
});

describe("midnight in a time input", () => {
  it("shows 24:00 as 23:59 and reads 23:59 back as midnight for a closing time only", () => {
    expect(toTimeInput("24:00")).toBe("23:59");
    expect(toTimeInput("17:30")).toBe("17:30");
    expect(fromTimeInput("23:59", "end")).toBe("24:00");
    expect(fromTimeInput("23:59", "start")).toBe("23:59");
    expect(fromTimeInput("08:15", "end")).toBe("08:15");
  });
});
