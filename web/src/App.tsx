/**
 * The console's routes. Signed-out pages (sign in, sign up, the emailed links) stand
 * alone; everything else lives inside an account, `/a/<account id>/…`, so a link names
 * the account it belongs to and the account switcher is a navigation.
 */

import { Center, Loader } from "@mantine/core";
import { Navigate, Outlet, Route, Routes, useLocation, useParams } from "react-router-dom";
import { useAuth } from "./auth/AuthContext";
import { AcceptInvitation, ForgotPassword, ResetPassword, VerifyEmail } from "./pages/auth/tokenLinks";
import { SignIn } from "./pages/auth/SignIn";
import { SignUp } from "./pages/auth/SignUp";
import { AutomationSection } from "./pages/automation/AutomationSection";
import { ContactsSection } from "./pages/contacts/ContactsSection";
import { Dashboard } from "./pages/Dashboard";
import { InboxSection } from "./pages/inbox/InboxSection";
import { NotFound } from "./pages/NotFound";
import { Settings } from "./pages/settings/Settings";
import { RealtimeProvider } from "./realtime/RealtimeContext";
import { Shell } from "./shell/Shell";

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignedOutOnly><SignIn /></SignedOutOnly>} />
      <Route path="/signup" element={<SignedOutOnly><SignUp /></SignedOutOnly>} />
      <Route path="/forgot-password" element={<ForgotPassword />} />
      <Route path="/reset-password" element={<ResetPassword />} />
      <Route path="/verify-email" element={<VerifyEmail />} />
      <Route path="/accept-invitation" element={<AcceptInvitation />} />
      <Route element={<SignedIn />}>
        <Route index element={<FirstAccount />} />
        <Route path="/a/:accountId" element={<InAccount />}>
          <Route index element={<Navigate to="dashboard" replace />} />
          <Route path="dashboard" element={<Dashboard />} />
          <Route path="settings/*" element={<Settings />} />
          <Route path="inbox/*" element={<InboxSection />} />
          <Route path="contacts/*" element={<ContactsSection />} />
          <Route path="automation/*" element={<AutomationSection />} />
          {/* the sections' routes, one line each */}
          <Route path="*" element={<NotFound />} />
        </Route>
      </Route>
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

function Waiting() {
  return (
    <Center mih="100vh">
      <Loader aria-label="Loading" />
    </Center>
  );
}

function SignedOutOnly({ children }: { children: React.ReactNode }) {
  const { status } = useAuth();
  if (status === "loading") return <Waiting />;
  return status === "signed-in" ? <Navigate to="/" replace /> : <>{children}</>;
}

function SignedIn() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "loading") return <Waiting />;
  if (status === "signed-out") return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

function FirstAccount() {
  const { context } = useAuth();
  const first = context?.accounts[0];
  return first ? <Navigate to={`/a/${first.id}/dashboard`} replace /> : <NotFound what="account" />;
}

function InAccount() {
  const { accountId } = useParams();
  const { account, context } = useAuth();
  const current = account(accountId);
  if (!current || !context) return <NotFound what="account" />;
  return (
    <RealtimeProvider accountId={current.id} userId={context.user.id}>
      <Shell account={current} />
    </RealtimeProvider>
  );
}
