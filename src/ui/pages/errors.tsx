/**
 * Friendly error pages. Members get 404 for other groups' domains (docs/auth.md), so "not found"
 * never says whether a domain exists.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Me, Problem, UiContext } from '../api-call';
import { page } from '../layout';

const TITLES: Partial<Record<number, string>> = {
  400: 'There is a problem with that request',
  403: 'You do not have permission to see this page',
  404: 'Page not found',
  409: 'That could not be done',
  413: 'That file is too large',
  429: 'Too many requests',
};

export function errorPage(c: UiContext, status: ContentfulStatusCode, me: Me | null, problem?: Problem): Response | Promise<Response> {
  if (status >= 500) {
    return page(
      c,
      { title: 'Sorry, there is a problem with the service', me, status },
      <>
        <h1>Sorry, there is a problem with the service</h1>
        <p>Try again later. The error has been logged.</p>
        <p>
          <a href="/">Go to your domains</a>
        </p>
      </>,
    );
  }
  const title = TITLES[status] ?? 'That could not be done';
  return page(
    c,
    { title, me, status },
    <>
      <h1>{title}</h1>
      {status === 404 ? (
        <>
          <p>If you typed the web address, check it is correct.</p>
          <p>If you followed a link to a domain, it may not be monitored, or your group may not own it.</p>
        </>
      ) : status === 403 ? (
        <p>Ask an administrator if you need access.</p>
      ) : problem?.detail ? (
        <p>{problem.detail}</p>
      ) : null}
      <p>
        <a href="/">Go to your domains</a>
      </p>
    </>,
  );
}
