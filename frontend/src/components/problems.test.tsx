import { render, screen } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { applyProblem, errorTitle, problemField } from './problems';
import { ProblemAlert } from './ProblemAlert';

const err = (status: number, code: string, detail: string, field?: string) => new ApiError({ title: code, status, code, detail, field, request_id: 'f'.repeat(32) });

vi.mock('@mantine/notifications', () => ({ notifications: { show: vi.fn() } }));

describe('problem mapping', () => {
  it('finds the form field a problem names, through a map and by its top member', () => {
    expect(problemField(err(400, 'bad_request', 'x', 'username'), ['username'])).toBe('username');
    expect(problemField(err(400, 'bad_request', 'x', 'subject.CN'), ['cn'], { 'subject.CN': 'cn' })).toBe('cn');
    expect(problemField(err(400, 'bad_request', 'x', 'sans[2].value'), ['sans'])).toBe('sans');
    expect(problemField(err(400, 'bad_request', 'x', 'other'), ['username'])).toBeNull();
    expect(problemField(err(400, 'bad_request', 'x'), ['username'])).toBeNull();
  });

  it('puts the detail on the field, or notifies when no field matches', async () => {
    const { notifications } = await import('@mantine/notifications');
    const setFieldError = vi.fn();
    expect(applyProblem(err(409, 'conflict', 'username is taken', 'username'), { setFieldError, values: { username: '' } })).toBe(true);
    expect(setFieldError).toHaveBeenCalledWith('username', 'username is taken');
    expect(applyProblem(err(500, 'internal_error', 'internal error'), { setFieldError, values: { username: '' } })).toBe(false);
    expect(notifications.show).toHaveBeenCalledWith(expect.objectContaining({ message: 'internal error', color: 'red' }));
  });

  it('a 403 reads "Not permitted"', () => {
    expect(errorTitle(err(403, 'forbidden', 'permission write:users required'))).toBe('Not permitted');
    render(
      <MantineProvider>
        <ProblemAlert error={err(403, 'forbidden', 'permission write:users required')} />
      </MantineProvider>,
    );
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Not permitted');
    expect(alert).toHaveTextContent('permission write:users required');
    expect(alert).toHaveTextContent('f'.repeat(32));
  });
});
