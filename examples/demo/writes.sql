-- One application transaction, run by pgbench as shop_app during the demo.
\set cid random(1, 1000)
begin;
insert into public.orders (customer_id, total) values (:cid, random() * 100) returning id \gset
insert into "Sales Dept"."Order Items" values (:id, 1, 'widget', 2), (:id, 2, 'gadget', 1);
insert into public.events (created_at, kind) values (now(), 'order');
update public.customers set name = 'customer ' || :cid where id = :cid;
insert into public.audit_log values (now(), 'order ' || :id);
select nextval('public."Invoice Numbers"');
commit;
