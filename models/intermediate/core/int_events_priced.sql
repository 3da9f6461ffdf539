-- Every accepted event with its UTC day and its amount in US dollars: the one place
-- that converts currencies, read by the daily activity mart and by the weekly and KPI
-- intermediates (so none of them reads a mart). A view: the incremental
-- fct_user_activity_daily filters it by _loaded_at, and DuckDB pushes that filter down.
with

events as (
    select * from {{ ref('stg_product__events') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

final as (
    select
        events.*,
        cast(events.occurred_at as date) as activity_date,
        -- Rounded to cents and below as decimals: decimal sums do not depend on the order
        -- rows arrive in, so incremental and full refreshes give the same figures.
        cast(events.amount * currency_rates.usd_per_unit as decimal(18, 4)) as amount_usd
    from events
    left join currency_rates
        on coalesce(events.currency, '{{ var("default_currency") }}') = currency_rates.currency
)

select * from final
