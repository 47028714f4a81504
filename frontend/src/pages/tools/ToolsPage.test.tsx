import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { me, meRoute, mockFetch, problem, renderApp } from '../../test/utils';
import ToolsPage from './ToolsPage';
import { fileToDecodeInput } from './decode';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('ToolsPage', () => {
  it('decodes pasted PEM and shows the fields', async () => {
    const calls = mockFetch({
      'GET /api/v2/auth/me': meRoute(me()),
      'POST /api/v2/tools/decode': (c) =>
        (c.body as { data: string }).data.includes('garbage')
          ? problem(400, 'bad_request', 'data is not PEM or base64 DER', { field: 'data' })
          : { body: { data: { type: 'certificate', subject_dn: 'CN=www.example.com', serial: '0a1b', not_after: '2027-01-01T00:00:00Z', sans: [{ type: 'dns', value: 'www.example.com' }], is_ca: false, pem: PEM } } },
    });
    const user = userEvent.setup();
    renderApp(<ToolsPage />, { url: '/tools' });
    const input = await screen.findByLabelText('PEM or base64 DER');
    await user.type(input, 'garbage');
    await user.click(screen.getByRole('button', { name: 'Decode' }));
    expect(await screen.findByText('data is not PEM or base64 DER')).toBeInTheDocument();
    await user.clear(input);
    await user.click(input);
    await user.paste(PEM);
    await user.click(screen.getByRole('radio', { name: 'Certificate' }));
    await user.click(screen.getByRole('button', { name: 'Decode' }));
    const fields = await screen.findByRole('table', { name: 'Decoded fields' });
    expect(within(fields).getByText('CN=www.example.com')).toBeInTheDocument();
    expect(within(fields).getByText('dns:www.example.com')).toBeInTheDocument();
    await waitFor(() => expect(calls.filter((c) => c.method === 'POST').at(-1)!.body).toEqual({ data: PEM, type: 'certificate' }));
  });

  it('reads PEM files as text and DER files as base64', async () => {
    expect(await fileToDecodeInput(new File([PEM], 'a.pem'))).toBe(PEM);
    expect(await fileToDecodeInput(new File([new Uint8Array([0x30, 0x82, 0x01, 0xff])], 'a.der'))).toBe('MIIB/w==');
  });
});
