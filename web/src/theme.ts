import { Anchor, Menu, createTheme } from "@mantine/core";

export const theme = createTheme({
  primaryColor: "blue",
  // Darker shades than the defaults where text sits on colour: WCAG AA contrast.
  primaryShade: { light: 8, dark: 8 },
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  defaultRadius: "md",
  components: {
    // Links inside text are told apart by more than colour (WCAG 1.4.1).
    Anchor: Anchor.extend({ defaultProps: { underline: "always" } }),
    // A closing menu's fading list is an empty menu to assistive technology: no fade.
    Menu: Menu.extend({ defaultProps: { transitionProps: { duration: 0 } } }),
  },
});
