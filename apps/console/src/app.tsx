import type { SessionObject } from "@imagegen/shared/public-api";
import { useEffect, useMemo, useState } from "preact/hooks";
import { createApiClient, type ApiClient } from "./api/client.js";
import { Link } from "./components/link.js";
import { BatchesPage } from "./pages/batches.js";
import { JobPage } from "./pages/job.js";
import { JobsPage } from "./pages/jobs.js";
import { KeysPage } from "./pages/keys.js";
import { LibraryPage } from "./pages/library.js";
import { PlaygroundPage } from "./pages/playground.js";
import { SignInPage } from "./pages/sign-in.js";
import { UsagePage } from "./pages/usage.js";
import { navigate, useRoute, type Route } from "./router.js";

const TITLES: Record<Route["page"], string> = {
  "sign-in": "Sign in",
  library: "Model Library",
  playground: "Playground",
  jobs: "Jobs",
  job: "Job",
  batches: "Batches",
  keys: "API keys",
  usage: "Usage",
  "not-found": "Not found",
};

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<SessionObject | null | undefined>(undefined);
  const client = useMemo(() => createApiClient({ onSignedOut: () => setSession(null) }), []);

  useEffect(() => {
    client.currentSession().then(setSession, () => setSession(null));
  }, [client]);

  useEffect(() => {
    document.title = `${TITLES[route.page]} · imagegen console`;
  }, [route.page]);

  useEffect(() => {
    if (session === null && route.page !== "sign-in") navigate("/sign-in");
    if (session && route.page === "sign-in") navigate("/library");
  }, [session, route.page]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null || route.page === "sign-in") {
    return (
      <main id="main" class="sign-in-main">
        <SignInPage client={client} onSignedIn={setSession} />
      </main>
    );
  }
  return <Shell client={client} session={session} route={route} onSignedOut={() => setSession(null)} />;
}

function Shell(props: { client: ApiClient; session: SessionObject; route: Route; onSignedOut: () => void }) {
  const { client, session, route } = props;
  const admin = session.role === "admin";
  const nav: Array<{ to: string; label: string; pages: Array<Route["page"]> }> = [
    { to: "/library", label: "Model Library", pages: ["library"] },
    { to: "/playground", label: "Playground", pages: ["playground"] },
    { to: "/jobs", label: "Jobs", pages: ["jobs", "job"] },
    { to: "/batches", label: "Batches", pages: ["batches"] },
    ...(admin
      ? [
          { to: "/keys", label: "API keys", pages: ["keys" as const] },
          { to: "/usage", label: "Usage", pages: ["usage" as const] },
        ]
      : []),
  ];
  const signOut = async () => {
    await client.signOut().catch(() => {});
    props.onSignedOut();
  };
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">imagegen</span>
        <nav aria-label="Console">
          <ul class="nav">
            {nav.map((item) => (
              <li key={item.to}>
                <Link to={item.to} current={item.pages.includes(route.page)}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {session.workspace_id} · {session.role}
          </span>
          <button type="button" class="button small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page client={client} session={session} route={route} />
      </main>
    </div>
  );
}

function Page(props: { client: ApiClient; session: SessionObject; route: Route }) {
  const { client, route } = props;
  const admin = props.session.role === "admin";
  switch (route.page) {
    case "library":
      return <LibraryPage client={client} />;
    case "playground":
      return <PlaygroundPage client={client} initialModel={route.model} />;
    case "jobs":
      return <JobsPage client={client} />;
    case "job":
      return <JobPage client={client} id={route.id} />;
    case "batches":
      return <BatchesPage client={client} />;
    case "keys":
      return admin ? <KeysPage client={client} /> : <AdminOnly />;
    case "usage":
      return admin ? <UsagePage client={client} /> : <AdminOnly />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No such page. Go to the <Link to="/library">Model Library</Link>.
          </p>
        </section>
      );
  }
}

function AdminOnly() {
  return (
    <section>
      <h1>Admins only</h1>
      <p>This page needs an admin key of the workspace. Sign in with one to manage keys and see usage.</p>
    </section>
  );
}
