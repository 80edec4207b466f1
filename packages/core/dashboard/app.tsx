/**
 * The ray-ts dashboard: one page (served by the head at `/`) with a route per view, each
 * refetching its data every 2 s. The cluster token comes from the URL fragment it was opened with
 * (`ray-ts dashboard` prints it) or the login box, and stays in this tab's sessionStorage.
 */
import type { JSX } from 'preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { adoptTokenFromUrl, onAuthNeeded, setToken } from './api.js';
import { Actors } from './pages/actors.js';
import { PlacementGroups } from './pages/groups.js';
import { JobPage, Jobs } from './pages/jobs.js';
import { Logs } from './pages/logs.js';
import { Objects } from './pages/objects.js';
import { Overview } from './pages/overview.js';
import { RunPage, Runs } from './pages/runs.js';
import { Serve } from './pages/serve.js';
import { Tasks } from './pages/tasks.js';
import { Timeline } from './pages/timeline.js';
import { href, useRoute, type Route } from './router.js';
import './app.css';

const NAV: readonly [route: string, title: string][] = [
  ['', 'Overview'],
  ['jobs', 'Jobs'],
  ['actors', 'Actors'],
  ['tasks', 'Tasks'],
  ['placement-groups', 'Placement groups'],
  ['objects', 'Objects'],
  ['serve', 'Serve'],
  ['runs', 'Runs'],
  ['timeline', 'Timeline'],
  ['logs', 'Logs'],
];

function Page(props: { route: Route }): JSX.Element {
  const [first, second] = props.route.parts;
  switch (first ?? '') {
    case '':
      return <Overview />;
    case 'jobs':
      return second ? <JobPage key={second} id={second} /> : <Jobs />;
    case 'actors':
      return <Actors />;
    case 'tasks':
      return <Tasks />;
    case 'placement-groups':
      return <PlacementGroups />;
    case 'objects':
      return <Objects />;
    case 'serve':
      return <Serve />;
    case 'runs':
      return second ? (
        <RunPage key={second} name={second} path={props.route.query.get('path') ?? undefined} />
      ) : (
        <Runs />
      );
    case 'timeline':
      return <Timeline />;
    case 'logs':
      return <Logs route={props.route} />;
    default:
      return (
        <p class="error">
          No page <code>{first}</code> here. <a href={href()}>Back to the overview</a>.
        </p>
      );
  }
}

function Login(): JSX.Element {
  const [value, setValue] = useState('');
  return (
    <form
      class="login"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value);
      }}
    >
      <h1>The cluster's token</h1>
      <p>
        The head refused this page's token, or it has none. Open the link <code>ray-ts dashboard</code> prints, or paste
        the token (<code>ray-ts get-auth-token</code>):
      </p>
      <input
        type="password"
        autocomplete="off"
        aria-label="token"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />{' '}
      <button type="submit">Use it</button>
    </form>
  );
}

function App(): JSX.Element {
  const route = useRoute();
  const [needToken, setNeedToken] = useState(false);
  useEffect(() => onAuthNeeded(setNeedToken), []);
  const current = route.parts[0] ?? '';
  return (
    <>
      <header>
        <a class="brand" href={href()}>
          ray-ts
        </a>
        <nav>
          {NAV.map(([r, title]) => (
            <a
              key={r}
              href={href(r)}
              class={r === current ? 'active' : undefined}
              aria-current={r === current ? 'page' : undefined}
            >
              {title}
            </a>
          ))}
        </nav>
      </header>
      <main>{needToken ? <Login /> : <Page route={route} />}</main>
    </>
  );
}

adoptTokenFromUrl();
render(<App />, document.getElementById('app')!);
